/**
 * The server's signing secret and its default project key. Production sets
 * REPLAYA_APPEND_TOKEN_SECRET; development generates one once and keeps it in
 * the data dir, so tokens survive restarts.
 *
 * @module
 */

import { base64url } from "../bytes.ts";
import { ConfigError } from "../config.ts";
import { Hmac } from "./hmac.ts";

/**
 * Returns the configured secret, or reads (creating once) `<dataDir>/secret.key`.
 * A process that may not write there (Deno Deploy, a read-only container) gets
 * a {@link ConfigError} asking for REPLAYA_APPEND_TOKEN_SECRET.
 */
export async function resolveSecret(configured: string | undefined, dataDir: string): Promise<string> {
  if (configured) return configured;
  const path = `${dataDir.replace(/\/+$/, "")}/secret.key`;
  try {
    const existing = (await Deno.readTextFile(path)).trim();
    if (existing.length >= 32) return existing;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const secret = base64url(crypto.getRandomValues(new Uint8Array(32)));
  try {
    await Deno.mkdir(dataDir, { recursive: true });
    await Deno.writeTextFile(path, secret + "\n", { mode: 0o600 });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied)) throw error;
    throw new ConfigError(
      `REPLAYA_APPEND_TOKEN_SECRET is not set and this process may not write ${path} to keep a generated one ` +
        `(${error.name}): set REPLAYA_APPEND_TOKEN_SECRET to a stable secret of at least 32 characters ` +
        "(e.g. `openssl rand -hex 32`), the same in every process",
    );
  }
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
