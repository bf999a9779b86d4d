/**
 * `deno task bench:first-start`: how long `deno task start` takes to serve its
 * first page on a fresh clone, with the dependency cache warm (a developer who
 * has run any Deno project with these packages before, or CI after
 * `deno install`).
 *
 * Each run clones the repository's HEAD into a temporary folder (no
 * node_modules/, no static/build/, no recorder/dist/), starts `deno task start`
 * there on a free port with an empty data folder, and measures from the spawn:
 *
 * - listening: the "RePlaya listening on" line;
 * - first page: the first `GET /` answered 200 (requested as soon as it listens);
 * - bundles ready: the "Built … island bundle(s)" line of the background build
 *   (checked: the list page then no longer says the bundles are being built).
 *
 * A figure, not a test: the machine's load moves it. `BENCH_RUNS` (default 3)
 * runs; `BENCH_SOURCE` clones another repository than this one.
 *
 * @module
 */

import { table } from "./report.ts";

const RUNS = Number(Deno.env.get("BENCH_RUNS") ?? 3);
const SOURCE = Deno.env.get("BENCH_SOURCE") ?? new URL("..", import.meta.url).pathname;
const text = new TextDecoder();

interface Run {
  listeningMs: number;
  firstPageMs: number;
  bundlesMs: number;
}

/** The environment of the child: this one's, without any RePlaya or S2 setting (the embedded store). */
function childEnv(dataDir: string): Record<string, string> {
  const env = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([name]) =>
      !name.startsWith("REPLAYA_") && !name.startsWith("S2_") && name !== "PORT"
    ),
  );
  return { ...env, NO_COLOR: "1", REPLAYA_PORT: "0", REPLAYA_DATA_DIR: dataDir };
}

async function git(args: string[]): Promise<void> {
  const out = await new Deno.Command("git", { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) throw new Error(`git ${args.join(" ")} failed: ${text.decode(out.stderr)}`);
}

async function once(): Promise<Run> {
  const dir = await Deno.makeTempDir({ prefix: "replaya-first-start-" });
  const clone = `${dir}/clone`;
  await git(["clone", "--quiet", SOURCE, clone]);
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "start"],
    cwd: clone,
    env: childEnv(`${dir}/data`),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    detached: true, // its own process group: `deno task` and the server it runs end together
  }).spawn();
  let output = "";
  const listening = Promise.withResolvers<string>();
  const built = Promise.withResolvers<number>();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) {
      output += text.decode(chunk, { stream: true });
      const url = output.match(/listening on (http:\/\/[^\s"]+)/)?.[1];
      if (url) listening.resolve(url);
      if (/^Built \d+ island bundle/m.test(output)) built.resolve(performance.now() - started);
      if (/bundles failed/.test(output)) built.reject(new Error(`the bundles failed to build:\n${output}`));
    }
  };
  const pumped = Promise.all([pump(child.stdout), pump(child.stderr)]);
  child.status.then(() => {
    const exited = new Error(`the server exited:\n${output}`);
    listening.reject(exited);
    built.reject(exited);
  });
  built.promise.catch(() => {});
  try {
    const url = await listening.promise;
    const listeningMs = performance.now() - started;
    const page = async () => {
      const res = await fetch(`${url}/`);
      const html = await res.text();
      if (res.status !== 200) throw new Error(`GET / answered ${res.status}`);
      return html;
    };
    await page();
    const firstPageMs = performance.now() - started;
    const bundlesMs = await built.promise;
    if ((await page()).includes('data-testid="bundles-pending"')) throw new Error("built, but the page says otherwise");
    return { listeningMs, firstPageMs, bundlesMs };
  } finally {
    try {
      Deno.kill(-child.pid, "SIGTERM");
    } catch { /* already gone */ }
    await child.status;
    await pumped.catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

console.log(`First start of a fresh clone of ${SOURCE} (deno task start, warm dependency cache), ${RUNS} run(s):`);
const runs: Run[] = [];
for (let i = 0; i < RUNS; i++) runs.push(await once());
const s = (ms: number) => (ms / 1000).toFixed(2) + " s";
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
console.log(
  table(
    ["run", "listening", "first page", "bundles ready"],
    [
      ...runs.map((r, i) => [String(i + 1), s(r.listeningMs), s(r.firstPageMs), s(r.bundlesMs)]),
      [
        "median",
        s(median(runs.map((r) => r.listeningMs))),
        s(median(runs.map((r) => r.firstPageMs))),
        s(median(runs.map((r) => r.bundlesMs))),
      ],
    ],
  ),
);
