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

/** Where {@link ssePush} frames go: awaited writes with backpressure, or offers that fail when the client lags. */
export interface SsePushSink {
  /** Queues bytes, resolving when the client has room for more. */
  write(bytes: Uint8Array): Promise<void>;
  /** Queues bytes now if the client has room; false when it has `queueBytes` waiting already. */
  offer(bytes: Uint8Array): boolean;
  readonly queueBytes: number;
}

/**
 * Streams SSE bytes pushed by `run` (already-encoded frames, e.g. one frame
 * shared by thousands of viewers), queued straight into the response body:
 * no per-client task between a broadcast and the socket. At most
 * `queueBytes` wait for a client; beyond that `offer` refuses and `run`
 * decides (e.g. ends the stream with a retry hint: the bytes it returns are
 * sent last). Same ending rules as {@link sseResponse}: client gone, body
 * cancelled, or `shutdown`.
 */
export function ssePush(
  c: Context,
  shutdown: AbortSignal,
  queueBytes: number,
  run: (sink: SsePushSink, signal: AbortSignal) => Promise<Uint8Array | void>,
): Response {
  const abort = new AbortController();
  const signal = AbortSignal.any([abort.signal, shutdown, c.req.raw.signal]);
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let room: (() => void) | undefined;
  let ping: ReturnType<typeof setInterval> | undefined;
  let closed = false;
  const end = () => {
    abort.abort();
    clearInterval(ping);
    room?.();
  };
  signal.addEventListener("abort", end, { once: true });
  (c.env as { completed?: Promise<void> } | undefined)?.completed?.finally(end).catch(() => {});
  const enqueue = (bytes: Uint8Array) => {
    if (closed) return;
    try {
      controller.enqueue(bytes);
    } catch {
      end(); // the body was cancelled
    }
  };
  const waiting = () => queueBytes - (controller.desiredSize ?? 0);
  const body = new ReadableStream<Uint8Array>({
    start(ctrl) {
      controller = ctrl;
      ctrl.enqueue(OPEN); // the first bytes: proxies flush, and clients know the stream is up
      ping = setInterval(() => enqueue(PING), PING_MS);
    },
    pull() {
      room?.();
      room = undefined;
    },
    cancel: end,
  }, new ByteLengthQueuingStrategy({ highWaterMark: queueBytes }));
  const sink: SsePushSink = {
    async write(bytes) {
      enqueue(bytes);
      while (!signal.aborted && (controller.desiredSize ?? 0) <= 0) await new Promise<void>((r) => room = r);
    },
    offer(bytes) {
      if (waiting() > 0 && waiting() + bytes.length > queueBytes) return false;
      enqueue(bytes);
      return true;
    },
    queueBytes,
  };
  run(sink, signal).then((last) => last && enqueue(last), (error) => {
    if (!signal.aborted) log.error("event stream failed", {}, error);
  }).finally(() => {
    end();
    if (closed) return;
    closed = true;
    try {
      controller.close();
    } catch { /* cancelled */ }
  });
  return c.body(body, 200, {
    "Content-Type": "text/event-stream",
    "Cache-Control": "no-store",
    "X-Accel-Buffering": "no",
  });
}
