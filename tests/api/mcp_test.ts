/**
 * The MCP server through the SDK's own client, against a real server: over
 * stdio (`cli/mcp.ts` as its own process, as an agent starts it) and over
 * streamable HTTP at `/mcp` behind a read token. Lists the tools and calls
 * each; answers are the untrusted-data notice, then JSON summaries, never
 * rrweb events or input values.
 */

import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { serverTest } from "../support/server.ts";
import { fetchWhole, post, sendBatch, type StartedSession, startSession } from "../support/client.ts";
import { ADMIN } from "../support/login.ts";
import { mintToken } from "../support/read_tokens.ts";
import { toolData as data, type ToolText as Text } from "../support/mcp.ts";

const MCP = new URL("../../cli/mcp.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;
const env = { REPLAYA_ADMIN_TOKEN: ADMIN };
const TOOLS = ["get_session_report", "list_sessions", "search_sessions", "tail_session"];

async function recorded(url: string, meta: Record<string, unknown>): Promise<StartedSession> {
  const s = await startSession(url, { meta: { userAgent: "test", ...meta } });
  const t = Date.now() - 1000;
  const events = [
    { type: 4, timestamp: t, data: { href: meta.url, width: 800, height: 600 } },
    { type: 3, timestamp: t + 1, data: { source: 2, type: 2, id: 9, x: 1, y: 1 } },
    { type: 3, timestamp: t + 2, data: { source: 5, id: 9, text: "hunter2-secret", isChecked: false } },
    { type: 5, timestamp: t + 3, data: { tag: "replaya.error", payload: { message: "TypeError: boom" } } },
  ];
  assert.equal((await sendBatch(url, s, { seq: 0, events })).status, 200);
  return s;
}

/** Calls every tool through `client` and checks the answers. */
async function exercise(client: Client, url: string): Promise<void> {
  const ended = await recorded(url, { url: "https://shop.example/checkout?coupon=SECRET", userId: "ada" });
  await post(`${url}/api/sessions/${ended.sessionId}/stop`, {}, { authorization: `Bearer ${ended.token}` });
  const live = await recorded(url, { url: "https://shop.example/cart" });

  // Typed here: the SDK's result types are too deep for TypeScript to infer.
  const { tools } = await client.listTools() as {
    tools: Array<{ name: string; description?: string; inputSchema: { type: string } }>;
  };
  assert.deepEqual(tools.map((t) => t.name).sort(), TOOLS);
  for (const tool of tools) {
    assert.ok(tool.inputSchema.type === "object", tool.name);
    assert.match(tool.description ?? "", /untrusted data recorded from website visitors/, tool.name);
  }

  const listed = data(await client.callTool({ name: "list_sessions", arguments: { limit: 10 } }));
  assert.deepEqual(listed.sessions.map((r: { id: string }) => r.id), [live.sessionId, ended.sessionId]);
  assert.equal(listed.sessions[1].url, "https://shop.example/checkout", "URLs without their query");
  assert.equal(listed.sessions[1].errors, 1);

  const found = data(
    await client.callTool({ name: "search_sessions", arguments: { url: "checkout", user: "ada", errors: true } }),
  );
  assert.deepEqual(found.sessions.map((r: { id: string }) => r.id), [ended.sessionId]);
  const none = data(await client.callTool({ name: "search_sessions", arguments: { errors: false } }));
  assert.deepEqual(none.sessions, []);

  const report = data(await client.callTool({ name: "get_session_report", arguments: { id: ended.sessionId } }));
  assert.equal(report.id, ended.sessionId);
  assert.deepEqual(report.errors.map((e: { message: string }) => e.message), ["TypeError: boom"]);

  // Bounded: an ended session returns at once; a live one after maxSeconds, saying it is still live.
  const tailEnded = data(await client.callTool({ name: "tail_session", arguments: { id: ended.sessionId } }));
  const lines: Array<{ kind: string; text: string }> = tailEnded.lines;
  assert.deepEqual(lines.map((l) => l.kind), ["page", "click", "input", "error"]);
  assert.match(lines[0].text, /^page https:\/\/shop\.example\/checkout/);
  assert.equal(lines[1].text, "click node 9");
  assert.equal(lines[3].text, "error TypeError: boom");
  assert.equal(tailEnded.status, "session ended (stop)");
  const tailLive = data(
    await client.callTool({ name: "tail_session", arguments: { id: live.sessionId, maxSeconds: 1, maxLines: 2 } }),
  );
  assert.equal(tailLive.lines.length, 2);
  assert.equal(tailLive.status, "stopped at maxLines");

  for (const answer of [tailEnded, tailLive, report, listed].map((d) => JSON.stringify(d))) {
    assert.ok(!answer.includes("hunter2-secret"), "no input values");
    assert.ok(!answer.includes('"type":3'), "no rrweb events");
  }

  // Bad arguments and unknown sessions: tool errors, not crashes.
  const unknown = await client.callTool({
    name: "get_session_report",
    arguments: { id: `${"1".repeat(13)}${"a".repeat(12)}` },
  }) as Text;
  assert.equal(unknown.isError, true);
  assert.match(unknown.content[0].text, /404 session_not_found/);
  const invalid = await client.callTool({ name: "tail_session", arguments: { id: "x", maxLines: 10_000 } }) as Text;
  assert.equal(invalid.isError, true);
}

serverTest("mcp: over stdio, the SDK's client lists the tools and calls each", async ({ url }) => {
  const { token } = await mintToken(url);
  const transport = new StdioClientTransport({
    command: Deno.execPath(),
    args: ["run", "--config", CONFIG, "--allow-net", "--allow-env", "--allow-read", MCP],
    env: { REPLAYA_URL: url, REPLAYA_TOKEN: token, NO_COLOR: "1", PATH: Deno.env.get("PATH") ?? "" },
    stderr: "pipe",
  });
  const client = new Client({ name: "replaya-test", version: "1.0.0" });
  await client.connect(transport);
  try {
    await exercise(client, url);
  } finally {
    await client.close();
  }
}, {
  env,
  // StdioClientTransport.close races the child's exit with a 2 s timer it never clears (SDK 1.32.2, client/stdio.js).
  leavesTimer: "@modelcontextprotocol/sdk StdioClientTransport.close",
});

serverTest("mcp: over streamable HTTP at /mcp behind a read token", async ({ url }) => {
  const { token } = await mintToken(url);
  // No token, a wrong one: a JSON 401 before any MCP message is read.
  const attempts: Array<Record<string, string>> = [{}, { authorization: `Bearer rpt_${"A".repeat(43)}` }];
  for (const headers of attempts) {
    const res = await fetchWhole(`${url}/mcp`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    assert.equal(res.status, 401);
    assert.equal((await res.json()).error.code, "login_required");
  }
  // Hostile or wrong requests: bounded, refused with JSON before the MCP server runs.
  const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const huge = await fetchWhole(`${url}/mcp`, { method: "POST", headers: auth, body: "[" + " ".repeat(100_000) + "]" });
  assert.equal(huge.status, 413);
  assert.equal((await huge.json()).error.code, "payload_too_large");
  const notJson = await fetchWhole(`${url}/mcp`, { method: "POST", headers: auth, body: "{nope" });
  assert.equal(notJson.status, 400);
  assert.equal((await notJson.json()).error.code, "invalid_json");
  const get = await fetchWhole(`${url}/mcp`, { headers: auth });
  assert.equal(get.status, 405);
  assert.equal((await get.json()).error.code, "method_not_allowed");

  const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name: "replaya-test", version: "1.0.0" });
  await client.connect(transport);
  try {
    await exercise(client, url);
  } finally {
    await client.close();
  }
}, { env });
