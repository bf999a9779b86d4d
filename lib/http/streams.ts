/**
 * What open response streams (live SSE, the feed, the wall, NDJSON reads,
 * exports) may cost one process. A read token is enough to open them, and a
 * client that never reads would otherwise hold whatever was queued for it:
 *
 * - at most `perToken` streams open per read token and `total` per process,
 *   and none opens while `maxQueuedBytes` wait in all stream queues together
 *   (429 with Retry-After beyond any of them);
 * - each stream queues at most its own `queueBytes` (frames are written in
 *   pieces, and a frame being written counts: see `sse.ts`);
 * - a stream whose client takes nothing for `stallMs` while bytes wait is cut
 *   off, which gives back its queue;
 * - large batches in flight (inflated past 1 MiB, or framed across records)
 *   take their bytes from one {@link ByteBudget} of `largeBatchBytes`.
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";
import { ByteBudget } from "../async.ts";
import { jsonError } from "./errors.ts";

/** The context key under which {@link StreamPolicy.limit} leaves the stream's release for `sse.ts`. */
export const STREAM_END = "replaya.streamEnd";

/** The limits of {@link StreamPolicy}. */
export interface StreamLimits {
  /** Streams one read token may hold open. */
  perToken: number;
  /** Streams this process holds open. */
  total: number;
  /** Bytes queued for all streams together beyond which no new stream opens. */
  maxQueuedBytes: number;
  /** A client that takes nothing for this long while bytes wait for it is cut off. */
  stallMs: number;
  /** Bytes large batches in flight may hold together. */
  largeBatchBytes: number;
}

/** Defaults: a stalled client costs at most its queue (1 MiB) and a share of the large-batch budget. */
export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  perToken: 16,
  total: 1024,
  maxQueuedBytes: 256 * 1024 * 1024,
  stallMs: 30_000,
  largeBatchBytes: 32 * 1024 * 1024,
};

/** The process's streams: their count, their queued bytes, the large-batch budget, and shutdown. */
export class StreamPolicy {
  readonly limits: StreamLimits;
  /** Aborts every stream (SIGTERM, SIGINT). */
  readonly shutdown: AbortSignal;
  readonly budget: ByteBudget;
  /** Bytes waiting in every stream's queue (kept by `sse.ts`). */
  queued = 0;
  /** Streams waiting for their client to take what is queued for it (kept by `sse.ts`). */
  waiting = 0;
  #open = 0;
  #perToken = new Map<string, number>();

  constructor(shutdown: AbortSignal, limits: Partial<StreamLimits> = {}) {
    this.shutdown = shutdown;
    this.limits = { ...DEFAULT_STREAM_LIMITS, ...limits };
    this.budget = new ByteBudget(this.limits.largeBatchBytes);
  }

  /** Streams open now. */
  get open(): number {
    return this.#open;
  }

  /**
   * Counts the request as an open stream until its response is done (Deno's
   * `completed`), or refuses it with 429. Runs after the login check: a read
   * token's id is what its streams are counted under.
   */
  limit(): MiddlewareHandler {
    return async (c, next) => {
      const token = (c.get("viewer") as { readToken?: { id: string } } | undefined)?.readToken?.id;
      const refusal = this.#refusal(token);
      if (refusal) {
        c.header("Retry-After", "5");
        return jsonError(c, 429, "too_many_streams", refusal);
      }
      this.#open++;
      if (token) this.#perToken.set(token, (this.#perToken.get(token) ?? 0) + 1);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        this.#open--;
        if (!token) return;
        const left = (this.#perToken.get(token) ?? 1) - 1;
        if (left > 0) this.#perToken.set(token, left);
        else this.#perToken.delete(token);
      };
      // The stream says when it ends (a client cut off for stalling may hold its connection open for good);
      // Deno's `completed` covers a response that is no stream.
      c.set(STREAM_END, release);
      const completed = (c.env as { completed?: Promise<void> } | undefined)?.completed;
      if (!completed) {
        try {
          return await next();
        } finally {
          release();
        }
      }
      completed.finally(release).catch(() => {});
      await next();
    };
  }

  #refusal(token: string | undefined): string | undefined {
    const { perToken, total, maxQueuedBytes } = this.limits;
    if (token && (this.#perToken.get(token) ?? 0) >= perToken) {
      return `a read token may hold ${perToken} streams open at once`;
    }
    if (this.#open >= total) return `this server holds ${total} streams open at most; retry shortly`;
    if (this.queued > maxQueuedBytes) return "this server has too much queued for slow clients; retry shortly";
    return undefined;
  }
}
