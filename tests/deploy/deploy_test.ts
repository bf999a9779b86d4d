/**
 * The deployment paths, run from a fresh `git clone` of this repository's HEAD
 * (uncommitted changes are not in it: commit first), built offline from the
 * dependency cache with the commands Deno Deploy and the Dockerfile run:
 *
 * - without a build, a production start fails with a message naming `deno task build`;
 * - `deno install --frozen --cached-only`, then `deno task build`;
 * - Deno Deploy's permissions (`deno run --allow-net --allow-env --allow-read main.ts`: nothing written, no
 *   subprocess) on s2-lite: ingest → list → live → stop, and nothing written into the clone;
 * - `deno task serve` (the container's command: writes to ./data only, no subprocess) on the embedded store,
 *   the same round trip, `deno task healthcheck` up and down, and SIGTERM reaching the server through `deno task`.
 *
 * Every child runs in its own process group and is killed with it in `finally`; every wait is bounded.
 */

import assert from "node:assert/strict";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { liteAvailable, type LiteServer, S2_SKIP_NOTICE, startLite } from "../support/s2_lite.ts";

const KEY = "pk_deploy_0123456789";
const SECRET = "deploy-secret-deploy-secret-0123456789ab";
/** Exactly the permissions Deno Deploy Classic granted, and what a locked-down platform grants. */
const DEPLOY_PERMISSIONS = ["--allow-net", "--allow-env", "--allow-read"];

const decoder = new TextDecoder();

/** The environment for children: ours, without any RePlaya or S2 setting of the test process. */
function childEnv(extra: Record<string, string>): Record<string, string> {
  const env = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([name]) =>
      !name.startsWith("REPLAYA_") && !name.startsWith("S2_") && name !== "PORT"
    ),
  );
  return { ...env, NO_COLOR: "1", ...extra };
}

/** Runs a command to the end within `timeoutMs`; throws with its output unless it succeeds (or `allowFailure`). */
async function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string>; timeoutMs: number; allowFailure?: boolean },
): Promise<{ code: number; output: string }> {
  const child = new Deno.Command(command, {
    args,
    cwd: options.cwd,
    env: childEnv(options.env ?? {}),
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
    detached: true,
  }).spawn();
  const timer = setTimeout(() => killGroup(child.pid), options.timeoutMs);
  try {
    const result = await child.output();
    const output = decoder.decode(result.stdout) + decoder.decode(result.stderr);
    if (result.signal) {
      throw new Error(`${command} ${args.join(" ")} timed out after ${options.timeoutMs} ms:\n${output}`);
    }
    if (!result.success && !options.allowFailure) {
      throw new Error(`${command} ${args.join(" ")} failed (${result.code}):\n${output}`);
    }
    return { code: result.code, output };
  } finally {
    clearTimeout(timer);
    killGroup(child.pid);
  }
}

function killGroup(pid: number): void {
  try {
    Deno.kill(-pid, "SIGKILL");
  } catch { /* already gone */ }
}

/** A server child (in its own process group), its output and its address once it listens. */
interface Served {
  url: string;
  output(): string;
  status: Promise<Deno.CommandStatus>;
  signal(signal: Deno.Signal): void;
  /** Kills the whole group and waits for the child. */
  kill(): Promise<void>;
}

/** Starts a server command and waits (at most `timeoutMs`) until it prints where it listens. */
async function serve(
  command: string,
  args: string[],
  options: { cwd: string; env: Record<string, string>; timeoutMs: number },
): Promise<Served> {
  const child = new Deno.Command(command, {
    args,
    cwd: options.cwd,
    env: childEnv(options.env),
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
    detached: true,
  }).spawn();
  let output = "";
  const listening = Promise.withResolvers<string>();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) {
      output += decoder.decode(chunk, { stream: true });
      const url = output.match(/listening on (http:\/\/[^\s"]+)/)?.[1];
      if (url) listening.resolve(url);
    }
  };
  const pumped = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const status = child.status.then(async (s) => {
    await pumped;
    listening.reject(new Error(`the server exited (${s.code}) before listening`));
    return s;
  });
  listening.promise.catch(() => {});
  const served: Served = {
    url: "",
    output: () => output,
    status,
    signal: (signal) => child.kill(signal),
    async kill() {
      killGroup(child.pid);
      await status;
    },
  };
  const timer = setTimeout(
    () => listening.reject(new Error(`not listening after ${options.timeoutMs} ms`)),
    options.timeoutMs,
  );
  try {
    served.url = await listening.promise;
    return served;
  } catch (error) {
    await served.kill();
    throw new Error(`${(error as Error).message}; its output:\n${output}`);
  } finally {
    clearTimeout(timer);
  }
}

/** fetch bounded by 10 s, the body read in full. */
async function request(url: string, init: RequestInit = {}): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, text: await res.text() };
}

function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  return request(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

/**
 * Ingest → list → live → stop through a running server: starts a session, appends a batch, finds the session in
 * the JSON list, follows its live SSE stream until an `events` frame, stops the session and reads on until the
 * stream delivers `stop`. Returns the SSE event names seen, in order.
 */
async function roundTrip(base: string): Promise<string[]> {
  const started = await postJson(`${base}/api/sessions`, {
    projectKey: KEY,
    meta: { url: "https://shop.example/cart", userAgent: "deploy-test", viewport: { width: 800, height: 600 } },
  });
  assert.equal(started.status, 201, started.text);
  const { sessionId, token } = JSON.parse(started.text) as { sessionId: string; token: string };
  const auth = { authorization: `Bearer ${token}` };
  const t0 = Date.now();
  const events = Array.from({ length: 3 }, (_, i) => ({
    type: 3,
    timestamp: t0 + i,
    data: { source: 2, type: 2, id: i, x: i, y: i },
  }));
  const appended = await postJson(
    `${base}/api/sessions/${sessionId}/events`,
    { writerId: "w1", seq: 0, sentAt: Date.now(), events },
    auth,
  );
  assert.equal(appended.status, 200, appended.text);

  const listed = await request(`${base}/api/sessions`);
  assert.equal(listed.status, 200, listed.text);
  const list = JSON.parse(listed.text) as { sessions: Array<{ id: string; live: boolean }>; next: string | null };
  const row = list.sessions.find((s) => s.id === sessionId);
  assert.ok(row, `the list has the session: ${listed.text}`);
  assert.equal(row.live, true);

  const seen: string[] = [];
  const live = await fetch(`${base}/api/sessions/${sessionId}/live`, { signal: AbortSignal.timeout(20_000) });
  assert.equal(live.status, 200);
  assert.match(live.headers.get("content-type") ?? "", /text\/event-stream/);
  const reader = live.body!.getReader();
  let buffer = "";
  let stopSent = false;
  try {
    while (!seen.includes("stop")) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const name = frame.match(/^event: (\S+)/m)?.[1];
        if (!name) continue;
        seen.push(name);
        if (name === "events") {
          const data = JSON.parse(frame.match(/^data: (.*)$/m)![1]) as { events: unknown[] };
          assert.equal(data.events.length, events.length);
        }
      }
      if (seen.includes("events") && !stopSent) {
        stopSent = true;
        const stopped = await postJson(`${base}/api/sessions/${sessionId}/stop`, {}, auth);
        assert.equal(stopped.status, 200, stopped.text);
        assert.equal(JSON.parse(stopped.text).stopped, true);
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  assert.ok(seen.includes("events"), `an events frame arrived: ${seen.join(", ")}`);
  assert.ok(seen.includes("stop"), `a stop frame arrived after the stop: ${seen.join(", ")}`);
  return seen;
}

/** The repository this test file belongs to, or undefined outside a git work tree. */
async function repositoryRoot(): Promise<string | undefined> {
  const here = dirname(fileURLToPath(import.meta.url));
  const { code, output } = await run("git", ["-C", here, "rev-parse", "--show-toplevel"], {
    cwd: here,
    timeoutMs: 10_000,
    allowFailure: true,
  }).catch(() => ({ code: 1, output: "" }));
  return code === 0 ? output.trim() : undefined;
}

const repo = await repositoryRoot();
const inCi = Deno.env.get("CI") === "true";
if (!repo) {
  if (inCi) throw new Error("the deploy test clones the repository, but this is not a git work tree");
  console.log("Deploy test skipped: not a git work tree (it clones the repository's HEAD).");
}
const withLite = liteAvailable();

Deno.test({
  name: "deploy: a fresh clone builds offline, then serves with Deno Deploy's permissions and with `deno task serve`",
  ignore: !repo,
  // Children are awaited and their streams drained; fetch bodies are cancelled or read in full.
  async fn(t) {
    const deno = Deno.execPath();
    const tmp = await Deno.makeTempDir({ prefix: "replaya-deploy-" });
    const clone = `${tmp}/replaya`;
    let lite: LiteServer | undefined;
    try {
      const head = (await run("git", ["-C", repo!, "rev-parse", "HEAD"], { cwd: tmp, timeoutMs: 10_000 })).output;
      console.log(`cloning HEAD ${head.trim()} (uncommitted changes are not tested)`);
      await run("git", ["clone", "--quiet", "--no-hardlinks", repo!, clone], { cwd: tmp, timeoutMs: 120_000 });

      await t.step("without a build, production refuses to start and names the build command", async () => {
        const { code, output } = await run(deno, ["run", ...DEPLOY_PERMISSIONS, "main.ts"], {
          cwd: clone,
          env: { REPLAYA_ENV: "production", REPLAYA_APPEND_TOKEN_SECRET: SECRET, REPLAYA_PORT: "0" },
          timeoutMs: 60_000,
          allowFailure: true,
        });
        assert.equal(code, 1, output);
        assert.match(output, /Build missing: .*Run `deno task build` before starting/);
        assert.doesNotMatch(output, /NotCapable/);
      });

      await t.step("deno install --frozen --cached-only, then deno task build", async () => {
        const installed = await run(deno, ["install", "--frozen", "--cached-only"], { cwd: clone, timeoutMs: 120_000 });
        const { output } = await run(deno, ["task", "build"], { cwd: clone, timeoutMs: 240_000 });
        assert.match(output, /Built \d+ island bundle\(s\) and the recorder/);
        assert.doesNotMatch(installed.output + output, /^Download /m, "everything came from the dependency cache");
        const manifest = JSON.parse(await Deno.readTextFile(`${clone}/static/build/manifest.json`));
        assert.ok(Object.keys(manifest.islands).length > 0);
        await Deno.stat(`${clone}/recorder/dist/replaya.iife.js`);
      });

      await t.step({
        name: "Deno Deploy's permissions on s2-lite, from another working directory: ingest → list → live → stop",
        ignore: !withLite,
        async fn() {
          lite = await startLite();
          const server = await serve(deno, ["run", ...DEPLOY_PERMISSIONS, `${clone}/main.ts`], {
            cwd: tmp, // the server finds its files from the module, not the working directory
            env: {
              REPLAYA_ENV: "production",
              REPLAYA_APPEND_TOKEN_SECRET: SECRET,
              REPLAYA_PROJECT_KEYS: `deploy=${KEY}`,
              REPLAYA_HOST: "127.0.0.1",
              REPLAYA_PORT: "0",
              S2_ACCOUNT_ENDPOINT: lite.url,
              S2_BASIN: "replaya-deploy-test",
            },
            timeoutMs: 60_000,
          });
          try {
            assert.match(server.output(), /store=s2/);
            assert.doesNotMatch(server.output(), /^Download /m);
            const frames = await roundTrip(server.url);
            for (const path of ["/recorder.js", "/static/app.css", "/healthz"]) {
              const res = await request(`${server.url}${path}`);
              assert.equal(res.status, 200, `${path}: ${res.text}`);
            }
            const page = await request(`${server.url}/`);
            assert.equal(page.status, 200);
            const island = page.text.match(/\/static\/build\/islands\/[A-Za-z0-9_-]+\.js/)?.[0];
            assert.ok(island, "the list page loads an island bundle");
            assert.equal((await request(`${server.url}${island}`)).status, 200);
            console.log(`Deploy permissions: SSE frames ${frames.join(" → ")}`);
          } catch (error) {
            console.error(`--- server output ---\n${server.output()}`);
            throw error;
          } finally {
            await server.kill();
          }
          console.log(`--- server output (Deploy permissions) ---\n${server.output().trim()}`);
          // Nothing was written: no data dir, and the clone is as the build left it.
          await assert.rejects(Deno.stat(`${clone}/data`), Deno.errors.NotFound);
          const status = await run("git", ["status", "--porcelain"], { cwd: clone, timeoutMs: 10_000 });
          assert.equal(status.output.trim(), "");
        },
      });

      await t.step(
        "`deno task serve` on the embedded store, its healthcheck, and SIGTERM through deno task",
        async () => {
          const server = await serve(deno, ["task", "serve"], {
            cwd: clone,
            env: {
              REPLAYA_ENV: "production",
              REPLAYA_APPEND_TOKEN_SECRET: SECRET,
              REPLAYA_PROJECT_KEYS: `deploy=${KEY}`,
              REPLAYA_HOST: "127.0.0.1",
              REPLAYA_PORT: "0",
            },
            timeoutMs: 60_000,
          });
          try {
            assert.match(server.output(), /store=sqlite location=\.\/data\/replaya\.db/);
            await roundTrip(server.url);
            const port = new URL(server.url).port;
            const healthy = await run(deno, ["task", "healthcheck"], {
              cwd: clone,
              env: { REPLAYA_PORT: port },
              timeoutMs: 30_000,
              allowFailure: true,
            });
            assert.equal(healthy.code, 0, healthy.output);
            // `docker stop`: SIGTERM to `deno task serve` reaches the server, which stops cleanly.
            server.signal("SIGTERM");
            const timer = setTimeout(() => server.kill(), 15_000);
            const exited = await server.status.finally(() => clearTimeout(timer));
            assert.equal(exited.code, 0, server.output());
            assert.match(server.output(), /RePlaya stopped on SIGTERM/);
            const down = await run(deno, ["task", "healthcheck"], {
              cwd: clone,
              env: { REPLAYA_PORT: port },
              timeoutMs: 30_000,
              allowFailure: true,
            });
            assert.equal(down.code, 1, down.output);
            assert.match(down.output, /did not answer/);
          } catch (error) {
            console.error(`--- server output ---\n${server.output()}`);
            throw error;
          } finally {
            await server.kill();
          }
          await Deno.stat(`${clone}/data/replaya.db`);
        },
      );
    } finally {
      await lite?.stop("SIGKILL");
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
  },
});

if (!withLite) console.log(S2_SKIP_NOTICE);
