/**
 * Starts a real s2-lite (in memory, loopback, a free port) for tests and
 * benchmarks. Locally a missing binary skips the S2 runs with one line; in CI
 * (CI=true) it is a failure.
 *
 * @module
 */

import { existsSync } from "node:fs";

/** Where `.ci/run` installs s2-lite: `cargo install --root` puts it in `bin/server`. */
export const S2_LITE_BIN = Deno.env.get("S2LITE_BIN") ??
  `${Deno.env.get("HOME")}/.cache/replaya/s2-lite/bin/server`;

/** A running s2-lite. */
export interface LiteServer {
  url: string;
  port: number;
  /** Ends it and waits for the process to exit; SIGTERM (graceful, waits for clients) unless told otherwise. */
  stop(signal?: Deno.Signal): Promise<void>;
  /** Synchronous kill, for exit handlers. */
  kill(): void;
}

/** Whether s2-lite can be used; throws in CI when it cannot. */
export function liteAvailable(): boolean {
  if (existsSync(S2_LITE_BIN)) return true;
  if (Deno.env.get("CI") === "true") {
    throw new Error(`s2-lite is required in CI but ${S2_LITE_BIN} is missing (run .ci/run to install it)`);
  }
  return false;
}

/** The one line `deno task test` (and the benchmarks) print when the S2 runs are skipped. */
export const S2_SKIP_NOTICE =
  `S2 suite skipped: no s2-lite at ${S2_LITE_BIN}. Enable it with: cargo install --locked s2-lite --bin server --root ~/.cache/replaya/s2-lite (or set S2LITE_BIN).`;

/** Prints {@link S2_SKIP_NOTICE}. */
export function printSkipNotice(): void {
  console.log(S2_SKIP_NOTICE);
}

/** A free TCP port on loopback. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * Starts s2-lite on a free loopback port (or `port`, to restart one where its
 * clients expect it), in memory or durable in `localRoot`, and waits until it
 * is healthy.
 */
export async function startLite(options: { localRoot?: string; port?: number } = {}): Promise<LiteServer> {
  const port = options.port ?? freePort();
  const args = ["--port", String(port)];
  if (options.localRoot) args.push("--local-root", options.localRoot);
  const child = new Deno.Command(S2_LITE_BIN, {
    args,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  // Drained from the start, so a chatty server never blocks on a full pipe; the tail explains a failed start.
  let stderrTail = "";
  const decoder = new TextDecoder();
  child.stderr.pipeTo(
    new WritableStream({ write: (chunk) => void (stderrTail = (stderrTail + decoder.decode(chunk)).slice(-2000)) }),
  ).catch(() => {});
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  while (true) {
    try {
      const res = await fetch(`${url}/health`);
      await res.body?.cancel();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      await child.status;
      throw new Error(`s2-lite did not become healthy on ${url}: ${stderrTail}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  let stopped = false;
  return {
    url,
    port,
    async stop(signal: Deno.Signal = "SIGTERM") {
      if (stopped) return;
      stopped = true;
      child.kill(signal);
      await child.status;
    },
    kill() {
      if (stopped) return;
      stopped = true;
      child.kill("SIGKILL");
    },
  };
}
