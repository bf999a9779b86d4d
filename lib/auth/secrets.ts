/**
 * The server's signing secret and its default project key. Production sets
 * REPLAYA_APPEND_TOKEN_SECRET; development generates one once and keeps it in
 * the data dir, so tokens survive restarts.
 *
 * @module
 */

import { base64url } from "../bytes.ts";
import { Hmac } from "./hmac.ts";

/** Returns the configured secret, or reads (creating once) `<dataDir>/secret.key`. */
export async function resolveSecret(configured: string | undefined, dataDir: string): Promise<string> {
  if (configured) return configured;
  const path = `${dataDir.replace(/\/+$/, "")}/secret.key`;
  try {
    const existing = (await Deno.readTextFile(path)).trim();
    if (existing.length >= 32) return existing;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  await Deno.mkdir(dataDir, { recursive: true });
  const secret = base64url(crypto.getRandomValues(new Uint8Array(32)));
  await Deno.writeTextFile(path, secret + "\n", { mode: 0o600 });
  return secret;
}

/**
 * The project key used when REPLAYA_PROJECT_KEYS is empty: derived from the
 * secret, so it is stable across restarts and unguessable without it.
 */
export async function derivedProjectKey(secret: string): Promise<string> {
  const signature = await new Hmac(`project-key:${secret}`).sign("default");
  return `pk_${signature.replace(/[^A-Za-z0-9]/g, "").slice(0, 24)}`;
}
