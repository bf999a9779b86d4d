/**
 * Server-sent event streams that always end: when the client goes away or
 * when the server shuts down (HEAD bodies are cancelled in `app.ts`).
 * Every resource a stream holds (watchers, store follows, timers) is released
 * in its `finally`, which therefore always runs.
 *
 * @module
 */

import type { Context } from "hono";
import { type SSEStreamingApi, streamSSE } from "hono/streaming";
import { log } from "../log.ts";

/** A comment line every so often keeps proxies from closing an idle stream. */
const PING_MS = 15_000;
const utf8 = new TextEncoder();
const OPEN = utf8.encode(": open\n\n");
const PING = utf8.encode(": ping\n\n");

/**
 * Streams SSE from `run`, which gets a signal that aborts when the stream
 * must end (client gone, body cancelled, or `shutdown` aborted).
 */
export function sseResponse(
  c: Context,
  shutdown: AbortSignal,
  run: (sse: SSEStreamingApi, signal: AbortSignal) => Promise<void>,
): Response {
  c.header("Cache-Control", "no-store");
  c.header("X-Accel-Buffering", "no");
  return streamSSE(c, async (sse) => {
    const abort = new AbortController();
    // Ending also aborts Hono's stream, which fails a write blocked on a reader that is gone.
    const end = () => {
      abort.abort();
      if (!sse.aborted) sse.abort();
    };
    sse.onAbort(end);
    if (sse.aborted) end(); // cancelled before this ran (HEAD): onAbort will not fire again
    const signal = AbortSignal.any([abort.signal, shutdown, c.req.raw.signal]);
    // Deno's own word that the response is over (sent, or its connection gone): the surest sign.
    (c.env as { completed?: Promise<void> } | undefined)?.completed?.finally(end).catch(() => {});
    // Hono's write never rejects: a failed ping shows up as the cancel (or `completed`) above.
    const ping = setInterval(() => void sse.write(": ping\n\n"), PING_MS);
    try {
      await sse.write(": open\n\n"); // the first bytes: proxies flush, and clients know the stream is up
      await run(sse, signal);
    } catch (error) {
      if (!signal.aborted) throw error;
    } finally {
      clearInterval(ping);
    }
  });
}

/**
 * One SSE message as bytes, so a frame sent to many clients is encoded once.
 * `data` must be a single line (JSON is).
 */
export function sseFrame(message: { event?: string; id?: number | string; data: string; retry?: number }): Uint8Array {
  let text = "";
  if (message.event) text += `event: ${message.event}\n`;
  if (message.id !== undefined) text += `id: ${message.id}\n`;
  if (message.retry !== undefined) text += `retry: ${message.retry}\n`;
  return utf8.encode(`${text}data: ${message.data}\n\n`);
}

/**
 * Streams SSE bytes pulled from `produce` (already-encoded frames, e.g. one
 * frame shared by thousands of viewers): the body asks for the next chunk
 * only when the connection has taken the last one, so a slow client costs a
 * paused iterator, not a growing buffer. Same ending rules as
 * {@link sseResponse}: client gone, body cancelled, or `shutdown`.
 */
export function sseChunks(
  c: Context,
  shutdown: AbortSignal,
  produce: (signal: AbortSignal) => AsyncIterable<Uint8Array>,
): Response {
  const abort = new AbortController();
  const signal = AbortSignal.any([abort.signal, shutdown, c.req.raw.signal]);
  const iterator = produce(signal)[Symbol.asyncIterator]();
  let ping: ReturnType<typeof setInterval> | undefined;
  const end = () => {
    abort.abort();
    clearInterval(ping);
  };
  (c.env as { completed?: Promise<void> } | undefined)?.completed?.finally(end).catch(() => {});
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(OPEN); // the first bytes: proxies flush, and clients know the stream is up
      ping = setInterval(() => {
        try {
          controller.enqueue(PING);
        } catch {
          end(); // closed
        }
      }, PING_MS);
    },
    async pull(controller) {
      try {
        const next = await iterator.next();
        if (!next.done) return controller.enqueue(next.value);
      } catch (error) {
        if (!signal.aborted) log.error("event stream failed", {}, error);
      }
      end();
      controller.close();
    },
    async cancel() {
      end();
      await iterator.return?.();
    },
  }, { highWaterMark: 0 });
  return c.body(body, 200, {
    "Content-Type": "text/event-stream",
    "Cache-Control": "no-store",
    "X-Accel-Buffering": "no",
  });
}
