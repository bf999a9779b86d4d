/**
 * A tiny ingest client for API tests: what a recorder sends, without a browser.
 *
 * @module
 */

import { gzip } from "../../lib/bytes.ts";
import { TEST_KEY } from "./server.ts";

/** A started session. */
export interface StartedSession {
  sessionId: string;
  token: string;
}

/** A minimal valid session start body. */
export function startBody(extra: Record<string, unknown> = {}) {
  return {
    projectKey: TEST_KEY,
    meta: { url: "https://shop.example/cart", userAgent: "test", viewport: { width: 800, height: 600 } },
    ...extra,
  };
}

/** Statuses whose responses never have a body. */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * `fetch` with the answer read in full: a test looks at its status, headers and body at leisure, and no
 * response body is left open when it ends (Deno's resource sanitizer). Not for streams (SSE).
 */
export async function fetchWhole(input: string | URL, init?: RequestInit): Promise<Response> {
  const res = await fetch(input, init);
  const body = NULL_BODY.has(res.status) ? null : await res.arrayBuffer();
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
}

/** POST JSON with optional headers; the answer is read in full. */
export function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetchWhole(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" || body instanceof Uint8Array ? body as BodyInit : JSON.stringify(body),
  });
}

/** Starts a session and returns its id and token. */
export async function startSession(base: string, extra: Record<string, unknown> = {}): Promise<StartedSession> {
  const res = await post(`${base}/api/sessions`, startBody(extra));
  if (res.status !== 201) throw new Error(`start failed: ${res.status} ${await res.text()}`);
  return await res.json();
}

/** rrweb-like events with timestamps. */
export function fakeEvents(n: number, t0 = Date.now(), tag = "e"): Array<Record<string, unknown>> {
  return Array.from({ length: n }, (_, i) => ({
    type: 3,
    timestamp: t0 + i,
    data: { source: 2, type: 2, id: i, x: i, y: i, tag: `${tag}${i}` },
  }));
}

/** Sends one batch, JSON or gzip. */
export async function sendBatch(
  base: string,
  session: StartedSession,
  batch: { writerId?: string; seq: number; events: unknown[]; gzip?: boolean; sentAt?: number },
): Promise<Response> {
  const body = JSON.stringify({
    writerId: batch.writerId ?? "w1",
    seq: batch.seq,
    sentAt: batch.sentAt ?? Date.now(),
    events: batch.events,
  });
  const headers: Record<string, string> = { authorization: `Bearer ${session.token}` };
  if (batch.gzip) headers["content-encoding"] = "gzip";
  const payload = batch.gzip ? await gzip(new TextEncoder().encode(body)) : body;
  return post(`${base}/api/sessions/${session.sessionId}/events`, payload, headers);
}

/** Reads a session back through the API as parsed NDJSON lines. */
export async function readSession(base: string, id: string): Promise<Array<Record<string, unknown>>> {
  const res = await fetch(`${base}/api/sessions/${id}/events`);
  if (!res.ok) throw new Error(`read failed: ${res.status} ${await res.text()}`);
  return (await res.text()).split("\n").filter(Boolean).map((line) => JSON.parse(line));
}

/** All rrweb events of a session, in order. */
export async function readEvents(base: string, id: string): Promise<Array<Record<string, unknown>>> {
  const items = await readSession(base, id);
  return items.filter((i) => i.kind === "events").flatMap((i) => i.events as Array<Record<string, unknown>>);
}

/**
 * One HTTP/1.1 request over a raw socket, for headers fetch will not send as
 * given (Host). Returns the status line's code and the response head.
 */
export async function rawRequest(
  base: string,
  request: { method?: string; path: string; headers: Record<string, string> },
): Promise<{ status: number; head: string }> {
  const { hostname, port } = new URL(base);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  try {
    const lines = [`${request.method ?? "GET"} ${request.path} HTTP/1.1`, "Connection: close"];
    for (const [name, value] of Object.entries(request.headers)) lines.push(`${name}: ${value}`);
    await conn.write(new TextEncoder().encode(lines.join("\r\n") + "\r\n\r\n"));
    let text = "";
    const buffer = new Uint8Array(16 * 1024);
    while (!text.includes("\r\n\r\n")) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    const head = text.split("\r\n\r\n")[0];
    return { status: Number(head.match(/^HTTP\/1\.1 (\d{3})/)?.[1] ?? 0), head };
  } finally {
    conn.close();
  }
}

/**
 * Follows a session's live SSE stream (`/api/sessions/:id/live`), calling
 * `onEvents` with each batch's rrweb events, until `signal` aborts or the
 * stream ends.
 */
export async function followLive(
  url: string,
  id: string,
  onEvents: (events: Array<{ type: number; timestamp: number; data?: unknown }>) => void,
  signal: AbortSignal,
): Promise<void> {
  const res = await fetch(`${url}/api/sessions/${id}/live`, { signal });
  const reader = res.body!.pipeThrough(new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>)
    .getReader();
  let buffer = "";
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (!block.startsWith("event: events")) continue;
        const data = block.split("\n").find((line) => line.startsWith("data: "))!.slice(6);
        onEvents(JSON.parse(data).events);
      }
    }
  } catch {
    // aborted
  }
}

/**
 * Opens an SSE stream over a raw socket and waits for its first bytes, so a
 * test can end the request by closing the connection itself (fetch's abort
 * may leave the socket open a while, which says more about the client than
 * about the server).
 */
export async function openRawStream(base: string, path: string, headers: Record<string, string> = {}) {
  const { hostname, port } = new URL(base);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  const lines = [`GET ${path} HTTP/1.1`, `Host: ${hostname}:${port}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  await conn.write(new TextEncoder().encode(lines.join("\r\n") + "\r\n\r\n"));
  let text = "";
  const buffer = new Uint8Array(4096);
  while (!text.includes(": open")) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error(`the stream closed before it opened: ${text}`);
    text += new TextDecoder().decode(buffer.subarray(0, n));
  }
  return conn;
}
