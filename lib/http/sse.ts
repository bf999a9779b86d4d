/**
 * Response streams that always end, and whose memory is bounded: server-sent
 * events, NDJSON and downloads. A stream ends when its client goes away, when
 * its body is cancelled (HEAD, in `app.ts`), when the server shuts down, or
 * when its client takes nothing for the policy's stall time while bytes wait
 * (then the connection is cut, which gives back what was queued for it).
 * Every resource a stream holds (watchers, store follows, timers) is released
 * in its `finally`, which therefore always runs.
 *
 * @module
 */

import type { Context } from "hono";
import { log } from "../log.ts";
import { concatBytes } from "../bytes.ts";
import { STREAM_END, type StreamPolicy } from "./streams.ts";

/** A comment line every so often keeps proxies from closing an idle stream. */
const PING_MS = 15_000;
/** Frames go into a queue in pieces of at most this: a large frame waits for room piece by piece. */
export const PIECE_BYTES = 64 * 1024;
const utf8 = new TextEncoder();
const OPEN = utf8.encode(": open\n\n");
const PING = utf8.encode(": ping\n\n");

/**
 * One SSE message as bytes, so a frame sent to many clients is encoded once.
 * `data` must be a single line (JSON is); a `Uint8Array` is sent as it is
 * (UTF-8 JSON as stored, never parsed here).
 */
export function sseFrame(
  message: { event?: string; id?: number | string; data: string | Uint8Array; retry?: number },
): Uint8Array {
  let head = "";
  if (message.event) head += `event: ${message.event}\n`;
  if (message.id !== undefined) head += `id: ${message.id}\n`;
  if (message.retry !== undefined) head += `retry: ${message.retry}\n`;
  if (typeof message.data === "string") return utf8.encode(`${head}data: ${message.data}\n\n`);
  return concatBytes([utf8.encode(`${head}data: `), message.data, utf8.encode("\n\n")]);
}

/** `prefix`, `json` and `suffix` as one buffer: a record's JSON wrapped without being parsed. */
export function wrapJson(prefix: string, json: Uint8Array, suffix: string): Uint8Array {
  return concatBytes([utf8.encode(prefix), json, utf8.encode(suffix)]);
}

/** Where {@link pushBody} bytes go: awaited writes with backpressure, or offers that fail when the client lags. */
export interface PushSink {
  /** Queues bytes piece by piece, each piece waiting for room: resolves when the client has room for more. */
  write(bytes: Uint8Array): Promise<void>;
  /** Queues bytes now if the client has room; false when it has `queueBytes` waiting already. */
  offer(bytes: Uint8Array): boolean;
  readonly queueBytes: number;
}

/** How {@link pushBody} answers. */
export interface PushOptions {
  /** Bytes that may wait for the client. */
  queueBytes: number;
  contentType: string;
  /** Extra response headers (Content-Disposition). */
  headers?: Record<string, string>;
  /** SSE: an opening comment, then a ping every 15 s. */
  sse?: boolean;
}

/**
 * Streams bytes pushed by `run` (already-encoded frames, e.g. one frame
 * shared by thousands of viewers), queued straight into the response body:
 * no per-client task between a broadcast and the socket. At most
 * `queueBytes` wait for a client (a frame larger than that only when nothing
 * else waits); beyond, `offer` refuses and `run` decides (e.g. ends the
 * stream with a retry hint: the bytes it returns are sent last). The stream
 * ends when `run` is done, the client goes away, the body is cancelled, the
 * server shuts down, or the client stalls (see the module doc).
 */
export function pushBody(
  c: Context,
  streams: StreamPolicy,
  options: PushOptions,
  run: (sink: PushSink, signal: AbortSignal) => Promise<Uint8Array | void>,
): Response {
  const { queueBytes } = options;
  const abort = new AbortController();
  // Not the request's own signal: Deno aborts it on every response, and warns when it is used. A client that goes
  // away cancels the body, and Deno's `completed` settles.
  const signal = AbortSignal.any([abort.signal, streams.shutdown]);
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let room: (() => void) | undefined;
  let ping: ReturnType<typeof setInterval> | undefined;
  let closed = false;
  /** What this stream has added to the process's queued bytes. */
  let counted = 0;
  const waiting = () => queueBytes - (controller.desiredSize ?? 0);
  const recount = () => {
    const now = closed ? 0 : Math.max(0, waiting());
    streams.queued += now - counted;
    counted = now;
  };
  /** Gives the stream's slot back (lib/http/streams.ts), once it is over. */
  const ended = c.get(STREAM_END) as (() => void) | undefined;
  const end = () => {
    abort.abort();
    clearInterval(ping);
    room?.();
  };
  const over = () => {
    closed = true;
    recount();
    end();
    ended?.();
  };
  signal.addEventListener("abort", end, { once: true });
  (c.env as { completed?: Promise<void> } | undefined)?.completed?.finally(over).catch(() => {});
  const enqueue = (bytes: Uint8Array) => {
    if (closed) return;
    try {
      for (let at = 0; at < bytes.length; at += PIECE_BYTES) controller.enqueue(bytes.subarray(at, at + PIECE_BYTES));
    } catch {
      end(); // the body was cancelled
    }
    recount();
  };
  /** Waits until the client has taken enough (`until` is true), or cuts it off after the stall time. */
  const progress = async (until: () => boolean): Promise<void> => {
    if (until() || closed) return;
    streams.waiting++;
    try {
      while (!until() && !closed) {
        const stalled = setTimeout(cut, streams.limits.stallMs);
        await new Promise<void>((r) => room = r);
        clearTimeout(stalled);
      }
    } finally {
      streams.waiting--;
    }
  };
  /** The client took nothing for the stall time: the connection goes, and what waited for it with it. */
  const cut = () => {
    if (closed) return;
    log.warn("stream cut off: its client took nothing for the stall time", { path: c.req.path });
    try {
      controller.error(new Error("the client stalled"));
    } catch { /* already gone */ }
    over();
  };
  const body = new ReadableStream<Uint8Array>({
    start(ctrl) {
      controller = ctrl;
      if (!options.sse) return;
      ctrl.enqueue(OPEN); // the first bytes: proxies flush, and clients know the stream is up
      ping = setInterval(() => enqueue(PING), PING_MS);
    },
    pull() {
      recount();
      room?.();
      room = undefined;
    },
    cancel: over,
  }, new ByteLengthQueuingStrategy({ highWaterMark: queueBytes }));
  const sink: PushSink = {
    async write(bytes) {
      for (let at = 0; at < bytes.length && !signal.aborted; at += PIECE_BYTES) {
        enqueue(bytes.subarray(at, at + PIECE_BYTES));
        await progress(() => signal.aborted || (controller.desiredSize ?? 0) > 0);
      }
    },
    offer(bytes) {
      if (waiting() > 0 && waiting() + bytes.length > queueBytes) return false;
      enqueue(bytes);
      return true;
    },
    queueBytes,
  };
  run(sink, signal).then((last) => last && enqueue(last), (error) => {
    if (!signal.aborted) log.error("response stream failed", { path: c.req.path }, error);
  }).finally(async () => {
    const stopping = streams.shutdown.aborted || closed;
    end();
    // Ended by `run`: what is queued is still sent, as long as the client keeps taking it.
    if (!stopping) await progress(() => waiting() <= 0);
    if (closed) return;
    try {
      controller.close();
    } catch { /* cancelled */ }
    over();
  });
  return c.body(body, 200, {
    "Content-Type": options.contentType,
    "Cache-Control": "no-store",
    "X-Accel-Buffering": "no",
    ...options.headers,
  });
}

/** Server-sent events through {@link pushBody}. */
export function ssePush(
  c: Context,
  streams: StreamPolicy,
  queueBytes: number,
  run: (sink: PushSink, signal: AbortSignal) => Promise<Uint8Array | void>,
): Response {
  return pushBody(c, streams, { queueBytes, contentType: "text/event-stream", sse: true }, run);
}
