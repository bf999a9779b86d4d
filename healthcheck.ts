/**
 * `deno task healthcheck`: exits 0 when the server on this machine answers
 * `GET /healthz` with 200 within 5 s (it answers 503 when its store does not),
 * 1 otherwise. The container's HEALTHCHECK; the official Deno image has no curl.
 * Reads the port and address the server reads (`PORT`, `REPLAYA_PORT`,
 * `REPLAYA_HOST`; a wildcard address is reached on loopback).
 *
 * @module
 */

const TIMEOUT_MS = 5_000;

/** The URL of the local server's `/healthz`, from the server's own variables. */
export function healthzUrl(env: { get(name: string): string | undefined }): string {
  const port = env.get("PORT")?.trim() || env.get("REPLAYA_PORT")?.trim() || "8080";
  const configured = env.get("REPLAYA_HOST")?.trim().replace(/^\[(.*)\]$/, "$1") ?? "";
  const host = ["", "0.0.0.0", "::", "localhost"].includes(configured) ? "127.0.0.1" : configured;
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}/healthz`;
}

if (import.meta.main) {
  const url = healthzUrl(Deno.env);
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    await res.body?.cancel();
    if (!res.ok) console.error(`${url} answered ${res.status}`);
    Deno.exit(res.ok ? 0 : 1);
  } catch (error) {
    console.error(`${url} did not answer: ${(error as Error).message}`);
    Deno.exit(1);
  }
}
