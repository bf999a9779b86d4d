/**
 * RePlaya as its own process (`deno run main.ts`), for what only a real
 * process shows: peak memory, signals, exit codes, configuration errors.
 *
 * @module
 */

import { TEST_KEY, TEST_SECRET } from "./server.ts";

/** A server process under test. */
export interface ChildServer {
  url: string;
  pid: number;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /** Peak resident memory so far, from VmHWM in /proc/<pid>/status (bytes). */
  peakRss(): Promise<number>;
  /** Resolves with the exit status. */
  status: Promise<Deno.CommandStatus>;
  kill(signal?: Deno.Signal): void;
  /** Kills the process if it still runs and removes its data dir. */
  close(): Promise<void>;
}

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const PERMISSIONS = ["--allow-net", "--allow-env", "--allow-read", "--allow-write", "--allow-run", "--allow-sys"];

/**
 * Runs `main.ts` with `env` (on top of a test key and secret) and a
 * temporary data dir: `started()` once it listens, or `exited()` when it is
 * expected to refuse to start.
 */
export function spawnServer(env: Record<string, string> = {}) {
  // A restart passes the same REPLAYA_DATA_DIR (and REPLAYA_PORT) again; only a dir made here is removed.
  const ownDir = env.REPLAYA_DATA_DIR === undefined;
  const dataDir = env.REPLAYA_DATA_DIR ?? Deno.makeTempDirSync({ prefix: "replaya-child-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMISSIONS, MAIN],
    env: {
      REPLAYA_PORT: "0",
      REPLAYA_DATA_DIR: dataDir,
      REPLAYA_PROJECT_KEYS: `test=${TEST_KEY}`,
      REPLAYA_APPEND_TOKEN_SECRET: TEST_SECRET,
      NO_COLOR: "1",
      ...env,
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const listening = Promise.withResolvers<string>();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (
      const text of stream.pipeThrough(new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>)
    ) {
      output += text;
      const url = output.match(/listening on (http:\/\/[^\s"]+)/)?.[1];
      if (url) listening.resolve(url);
    }
  };
  const pumped = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const status = child.status.then(async (s) => {
    await pumped;
    listening.reject(new Error(`server exited (${s.code}) before listening:\n${output}`));
    return s;
  });
  listening.promise.catch(() => {});
  return {
    child,
    dataDir,
    status,
    output: () => output,
    listening: listening.promise,
    async started(): Promise<ChildServer> {
      const url = await listening.promise;
      return {
        url,
        pid: child.pid,
        output: () => output,
        status,
        async peakRss() {
          const text = await Deno.readTextFile(`/proc/${child.pid}/status`);
          return Number(text.match(/VmHWM:\s+(\d+) kB/)![1]) * 1024;
        },
        kill: (signal: Deno.Signal = "SIGKILL") => child.kill(signal),
        async close() {
          try {
            child.kill("SIGKILL");
          } catch { /* already gone */ }
          await status;
          if (ownDir) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
        },
      };
    },
    async exited(): Promise<{ code: number; output: string }> {
      const { code } = await status;
      if (ownDir) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      return { code, output };
    },
  };
}

/** Starts a server process and waits until it listens. */
export function startChildServer(env: Record<string, string> = {}): Promise<ChildServer> {
  return spawnServer(env).started();
}
