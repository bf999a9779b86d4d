/**
 * The CLI as a user runs it (`deno run cli/main.ts …`, its own process)
 * against a real server with a read token: every command, `tail` on a live
 * session while batches arrive, and the errors (bad token, unknown id,
 * server down) as non-zero exits with a message.
 */

import assert from "node:assert/strict";
import { serverTest } from "../support/server.ts";
import { post, sendBatch, type StartedSession, startSession } from "../support/client.ts";
import { ADMIN } from "../support/login.ts";
import { mintToken } from "../support/read_tokens.ts";

const MAIN = new URL("../../cli/main.ts", import.meta.url).pathname;
const env = { REPLAYA_ADMIN_TOKEN: ADMIN };

function command(args: string[], config: { url?: string; token?: string }) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env=REPLAYA_URL,REPLAYA_TOKEN", "--allow-write", MAIN, ...args],
    env: { REPLAYA_URL: config.url ?? "", REPLAYA_TOKEN: config.token ?? "", NO_COLOR: "1" },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  });
}

/** Runs the CLI to its end. */
async function cli(args: string[], config: { url?: string; token?: string }) {
  const { code, stdout, stderr } = await command(args, config).output();
  return { code, out: new TextDecoder().decode(stdout), err: new TextDecoder().decode(stderr) };
}

/** A page with a button, a click on it, an input, a page view and an error, at `t`. */
function activity(t: number) {
  const page = {
    type: 0,
    id: 1,
    childNodes: [{
      type: 2,
      id: 2,
      tagName: "html",
      attributes: {},
      childNodes: [
        {
          type: 2,
          id: 5,
          tagName: "button",
          attributes: { id: "buy", class: "primary" },
          childNodes: [{ type: 3, id: 6, textContent: "Buy now" }],
        },
        { type: 2, id: 7, tagName: "input", attributes: { name: "email" }, childNodes: [] },
      ],
    }],
  };
  return [
    { type: 4, timestamp: t, data: { href: "https://shop.example/cart", width: 800, height: 600 } },
    { type: 2, timestamp: t + 1, data: { node: page, initialOffset: { top: 0, left: 0 } } },
    { type: 3, timestamp: t + 2, data: { source: 2, type: 2, id: 5, x: 1, y: 1 } },
    { type: 3, timestamp: t + 3, data: { source: 5, id: 7, text: "secret@example.com", isChecked: false } },
    { type: 5, timestamp: t + 4, data: { tag: "replaya.error", payload: { message: "TypeError: boom" } } },
  ];
}

async function recorded(url: string, meta?: Record<string, unknown>): Promise<StartedSession> {
  const s = await startSession(url, meta ? { meta } : {});
  assert.equal((await sendBatch(url, s, { seq: 0, events: activity(Date.now() - 1000) })).status, 200);
  return s;
}

serverTest("cli: list, show, report, export with a read token (tables and --json)", async ({ url }) => {
  const ended = await recorded(url, { url: "https://shop.example/checkout", userAgent: "test", userId: "ada" });
  await post(`${url}/api/sessions/${ended.sessionId}/stop`, {}, { authorization: `Bearer ${ended.token}` });
  const live = await recorded(url);
  const { token } = await mintToken(url);

  const table = await cli(["sessions", "list"], { url, token });
  assert.equal(table.code, 0, table.err);
  const lines = table.out.trim().split("\n");
  assert.match(lines[0], /^ID\s+STARTED \(UTC\)\s+DURATION\s+STATUS/);
  assert.match(table.out, new RegExp(`${live.sessionId}.*live`));
  assert.match(table.out, new RegExp(`${ended.sessionId}.*ended.*ada`));

  const filtered = await cli(["sessions", "list", "--status", "ended", "--url-contains", "checkout", "--json"], {
    url,
    token,
  });
  assert.equal(filtered.code, 0, filtered.err);
  assert.deepEqual(JSON.parse(filtered.out).sessions.map((r: { id: string }) => r.id), [ended.sessionId]);
  const byUser = await cli(["sessions", "list", "--user", "ADA", "--json"], { url, token });
  assert.deepEqual(JSON.parse(byUser.out).sessions.map((r: { id: string }) => r.id), [ended.sessionId]);

  const show = await cli(["sessions", "show", ended.sessionId], { url, token });
  assert.equal(show.code, 0, show.err);
  assert.match(show.out, /status\s+ended/);
  assert.match(show.out, /url\s+https:\/\/shop\.example\/checkout/);
  const showJson = JSON.parse((await cli(["sessions", "show", live.sessionId, "--json"], { url, token })).out);
  assert.equal(showJson.meta.id, live.sessionId);
  assert.equal(showJson.live, true);

  const report = await cli(["sessions", "report", ended.sessionId], { url, token });
  assert.equal(report.code, 0, report.err);
  assert.match(report.out, /^#/m, "Markdown");
  assert.match(report.out, /TypeError: boom/);
  const reportJson = JSON.parse((await cli(["sessions", "report", ended.sessionId, "--json"], { url, token })).out);
  assert.equal(reportJson.id, ended.sessionId);
  assert.equal(reportJson.errors[0].message, "TypeError: boom");

  const exported = await cli(["sessions", "export", ended.sessionId], { url, token });
  assert.equal(exported.code, 0, exported.err);
  const doc = JSON.parse(exported.out);
  assert.equal(doc.format, "replaya-session/1");
  assert.equal(doc.events.length, 5);
  const file = await Deno.makeTempFile({ suffix: ".json" });
  try {
    const toFile = await cli(["sessions", "export", ended.sessionId, "--output", file], { url, token });
    assert.equal(toFile.code, 0, toFile.err);
    assert.equal(JSON.parse(await Deno.readTextFile(file)).events.length, 5);
  } finally {
    await Deno.remove(file);
  }
}, { env });

serverTest("cli: tail follows a live session as batches arrive and ends with it", async ({ url }) => {
  const s = await recorded(url);
  const { token } = await mintToken(url);
  const child = command(["sessions", "tail", s.sessionId], { url, token }).spawn();
  const lines: string[] = [];
  const waiters: Array<{ test: RegExp; resolve: () => void }> = [];
  const reading = (async () => {
    let buffer = "";
    for await (
      const text of child.stdout.pipeThrough(new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>)
    ) {
      buffer += text;
      let end: number;
      while ((end = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 1);
        lines.push(line);
        for (const w of waiters.filter((w) => w.test.test(line))) w.resolve();
      }
    }
  })();
  const stderr = new Response(child.stderr).text();
  /** Resolves once a line matching `test` has been printed. */
  const printed = (test: RegExp) => {
    if (lines.some((l) => test.test(l))) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    waiters.push({ test, resolve });
    return promise;
  };
  try {
    // What happened before the tail started: page, click with the element, input (never its value), error.
    await printed(/error TypeError: boom/);
    assert.ok(lines.some((l) => /^\d\d:\d\d:\d\d {2}session \S+ started at https:\/\/shop\.example\/cart$/.test(l)));
    assert.ok(lines.some((l) => l.endsWith(`page https://shop.example/cart`)));
    assert.ok(lines.some((l) => l.endsWith(`click button#buy.primary "Buy now"`)), lines.join("\n"));
    assert.ok(lines.some((l) => l.endsWith("input input[name=email]")));
    assert.ok(!lines.some((l) => l.includes("secret@example.com")), "input values are never printed");

    // While it tails: a new batch appears as it arrives.
    const t = Date.now();
    const batch = [{ type: 3, timestamp: t, data: { source: 2, type: 4, id: 5, x: 2, y: 2 } }];
    assert.equal((await sendBatch(url, s, { seq: 1, events: batch })).status, 200);
    await printed(/double-click button#buy/);

    // The session ends: so does the tail, with exit 0.
    await post(`${url}/api/sessions/${s.sessionId}/stop`, {}, { authorization: `Bearer ${s.token}` });
    await printed(/session ended \(stop\)/);
    const status = await child.status;
    assert.equal(status.code, 0, await stderr);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* already ended */ }
    await child.status;
    await reading;
    await stderr;
  }
}, { env });

serverTest("cli: delete needs the delete scope; errors exit non-zero with a clear message", async ({ url }) => {
  const s = await recorded(url);
  const { token } = await mintToken(url);
  const refused = await cli(["sessions", "delete", s.sessionId], { url, token });
  assert.equal(refused.code, 1);
  assert.match(refused.err, /403 read_only_token/);
  assert.match(refused.err, /delete scope/);

  const deleter = await mintToken(url, { scope: "delete" });
  const deleted = await cli(["sessions", "delete", s.sessionId], { url, token: deleter.token });
  assert.equal(deleted.code, 0, deleted.err);
  assert.equal(deleted.out.trim(), `deleted ${s.sessionId}`);

  const gone = await cli(["sessions", "show", s.sessionId], { url, token });
  assert.equal(gone.code, 1);
  assert.match(gone.err, /404 session_not_found/);
  assert.match(gone.err, new RegExp(`no session ${s.sessionId}`));
  const badId = await cli(["sessions", "report", "nope"], { url, token });
  assert.equal(badId.code, 1);
  assert.match(badId.err, /400 invalid_session_id/);

  const badToken = await cli(["sessions", "list"], { url, token: "rpt_" + "A".repeat(43) });
  assert.equal(badToken.code, 1);
  assert.match(badToken.err, /401 login_required/);
  assert.match(badToken.err, /REPLAYA_TOKEN/);
  const noToken = await cli(["sessions", "list"], { url });
  assert.equal(noToken.code, 1);
  assert.match(noToken.err, /401/);

  // A port nothing listens on.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const down = `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
  listener.close();
  const unreachable = await cli(["sessions", "list"], { url: down, token });
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.err, /cannot reach http:\/\/127\.0\.0\.1:\d+/);
  assert.match(unreachable.err, /is the server running/);

  const noUrl = await cli(["sessions", "list"], {});
  assert.equal(noUrl.code, 2);
  assert.match(noUrl.err, /set REPLAYA_URL or pass --url/);
  const flagUrl = await cli(["sessions", "list", "--url", url, "--token", token, "--json"], {});
  assert.equal(flagUrl.code, 0, flagUrl.err);
  const badFlag = await cli(["sessions", "list", "--status", "sleeping"], { url, token });
  assert.equal(badFlag.code, 2);
  assert.match(badFlag.err, /--status is one of live, ended/);
  const unknown = await cli(["sessions", "frobnicate"], { url, token });
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /unknown command: sessions frobnicate/);
}, { env });

Deno.test("cli: --help for the CLI and each command", async () => {
  const main = await cli(["--help"], {});
  assert.equal(main.code, 0);
  for (const name of ["list", "show ID", "tail ID", "report ID", "export ID", "delete ID"]) {
    assert.match(main.out, new RegExp(`sessions ${name}`));
  }
  for (const name of ["list", "show", "tail", "report", "export", "delete"]) {
    const help = await cli(["sessions", name, "--help"], {});
    assert.equal(help.code, 0, name);
    assert.match(help.out, new RegExp(`^Usage: replaya sessions ${name}`), name);
    assert.match(help.out, /--token TOKEN/);
  }
  assert.match((await cli(["sessions", "list", "--help"], {})).out, /--friction KIND/);
});

serverTest("cli: runs from a URL with nothing but cli/, client/ and the wire types", async ({ url }) => {
  await recorded(url);
  const { token } = await mintToken(url);
  // Serves only cli/, client/ and recorder/src/wire.ts: any other import would fail to load.
  const root = new URL("../../", import.meta.url);
  const files = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    if (!/^\/(cli|client)\/\w+\.ts$/.test(path) && path !== "/recorder/src/wire.ts") {
      return new Response("no", { status: 404 });
    }
    return new Response(await Deno.readFile(new URL(path.slice(1), root)), {
      headers: { "content-type": "application/typescript" },
    });
  });
  const cache = await Deno.makeTempDir({ prefix: "replaya-cli-url-" });
  try {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-config",
        "--no-lock",
        "--allow-net",
        "--allow-env",
        `http://127.0.0.1:${files.addr.port}/cli/main.ts`,
        "sessions",
        "list",
        "--json",
      ],
      env: { DENO_DIR: cache, REPLAYA_URL: url, REPLAYA_TOKEN: token, NO_COLOR: "1" },
      cwd: cache,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    assert.equal(JSON.parse(new TextDecoder().decode(stdout)).sessions.length, 1);
  } finally {
    await files.shutdown();
    await Deno.remove(cache, { recursive: true });
  }
}, { env });
