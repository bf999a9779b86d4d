/**
 * The S2 backend: S2 Cloud or a self-hosted s2-lite through the official SDK.
 *
 * Appends use the `noSideEffects` retry policy, so the SDK never retries a
 * request that might already have been written; callers make their own
 * retries harmless with dedupe headers. Followers wrap the SDK's read session
 * in a loop that reopens it from the next position after any drop.
 *
 * @module
 */

import {
  AppendInput,
  AppendRecord,
  FencingTokenMismatchError,
  RangeNotSatisfiableError,
  type ReadRecord,
  S2,
  type S2Basin,
  S2Error,
  SeqNumMismatchError,
  type StreamConfig as S2StreamConfig,
} from "@s2-dev/streamstore";
import {
  AlreadyExistsError,
  FencingMismatchError,
  InvalidError,
  NotFoundError,
  SeqMismatchError,
  StoreError,
  TimeoutError,
  TooLargeError,
  UnavailableError,
} from "./errors.ts";
import {
  type AppendAck,
  type AppendItem,
  type AppendOptions,
  type FollowOptions,
  type Header,
  isFence,
  type ListOptions,
  type ListResult,
  type ReadOptions,
  type ReadResult,
  type StoredRecord,
  type StoreInfo,
  type StreamConfig,
  type StreamPosition,
  type StreamStore,
} from "./types.ts";
import { listLimit, readLimits, validateBatch, validateStreamName } from "./validate.ts";
import { sleep } from "../async.ts";

/** Options for {@link S2Store.connect}. */
export interface S2StoreOptions {
  accessToken: string;
  basin: string;
  /** Control-plane endpoint; for s2-lite, its URL (`http://host:port`). */
  accountEndpoint?: string;
  /** Data-plane endpoint; for s2-lite, the same URL as the account endpoint. */
  basinEndpoint?: string;
  /** Basin default for streams, also used by streams auto-created on append. */
  defaultStreamConfig?: StreamConfig;
  /** Timeout of unary calls in ms (default 10 s). */
  requestTimeoutMs?: number;
}

const text = new TextDecoder();

/**
 * S2-backed {@link StreamStore}.
 *
 * @example
 * const store = await S2Store.connect({ accessToken: "x", basin: "replaya-dev", accountEndpoint: "http://127.0.0.1:8080", basinEndpoint: "http://127.0.0.1:8080" });
 */
export class S2Store implements StreamStore {
  readonly info: StoreInfo;
  #basin: S2Basin;
  #defaults: StreamConfig;
  #timeoutMs: number;
  /** Appends in flight, which {@link close} waits for. */
  #appending = new Set<Promise<void>>();

  private constructor(client: S2, options: S2StoreOptions) {
    this.#basin = client.basin(options.basin);
    this.#defaults = options.defaultStreamConfig ?? {};
    this.#timeoutMs = options.requestTimeoutMs ?? 10_000;
    this.info = {
      backend: "s2",
      location: options.basinEndpoint ?? `https://${options.basin}.b.s2.dev/v1`,
      basin: options.basin,
    };
  }

  /** Creates the client and ensures the basin exists with RePlaya's configuration. */
  static async connect(options: S2StoreOptions): Promise<S2Store> {
    const endpoints = options.accountEndpoint || options.basinEndpoint
      ? { account: options.accountEndpoint, basin: options.basinEndpoint }
      : undefined;
    const client = new S2({
      accessToken: options.accessToken,
      endpoints,
      retry: { maxAttempts: 4, appendRetryPolicy: "noSideEffects" },
    });
    const store = new S2Store(client, options);
    const config = {
      createStreamOnAppend: true,
      createStreamOnRead: false,
      defaultStreamConfig: toS2Config(store.#defaults),
    };
    try {
      await client.basins.ensure({ basin: options.basin, config }, store.#signal());
    } catch (error) {
      // A token scoped to one basin may not manage basins; the basin must then exist.
      if (!(error instanceof S2Error && error.status === 403)) throw toStoreError(error, `basin ${options.basin}`);
      await client.basins.getConfig({ basin: options.basin }, store.#signal()).catch((e) => {
        throw toStoreError(e, `basin ${options.basin}`);
      });
    }
    return store;
  }

  async createStream(name: string, config: StreamConfig = {}): Promise<void> {
    validateStreamName(name);
    try {
      await this.#basin.streams.create(
        { stream: name, config: toS2Config({ ...this.#defaults, ...config }) },
        this.#signal(),
      );
    } catch (error) {
      throw toStoreError(error, `stream ${name}`);
    }
  }

  async getStreamConfig(name: string): Promise<StreamConfig> {
    validateStreamName(name);
    try {
      const config = await this.#basin.streams.getConfig({ stream: name }, this.#signal());
      const retention = config.retentionPolicy;
      return {
        retentionAgeSecs: retention && "ageSecs" in retention ? retention.ageSecs : undefined,
        deleteOnEmptyMinAgeSecs: config.deleteOnEmpty?.minAgeSecs ?? 0,
      };
    } catch (error) {
      throw toStoreError(error, `stream ${name}`);
    }
  }

  append(stream: string, items: AppendItem[], options: AppendOptions = {}): Promise<AppendAck> {
    const appending = this.#append(stream, items, options);
    const settled = appending.then(() => {}, () => {});
    this.#appending.add(settled);
    settled.then(() => this.#appending.delete(settled));
    return appending;
  }

  async #append(stream: string, items: AppendItem[], options: AppendOptions): Promise<AppendAck> {
    validateStreamName(stream);
    validateBatch(items, options);
    const records = items.map((item) =>
      isFence(item) ? AppendRecord.fence(item.fence, item.timestamp ?? Date.now()) : AppendRecord.bytes({
        body: item.body,
        headers: item.headers,
        timestamp: item.timestamp,
      })
    );
    const input = AppendInput.create(records, { fencingToken: options.fencingToken, matchSeqNum: options.matchSeqNum });
    for (let attempt = 1;; attempt++) {
      try {
        const ack = await this.#basin.stream(stream).append(input, this.#signal());
        return { start: position(ack.start), end: position(ack.end), tail: position(ack.tail) };
      } catch (error) {
        // Concurrent first appends race to auto-create a stream: s2-lite answers some with
        // 409 transaction_conflict, or 404 stream_not_found, and writes nothing. The
        // noSideEffects policy leaves these to us; retrying cannot duplicate a record.
        if (isCreateRace(error) && attempt < 6) {
          await sleep(20 * 2 ** attempt * (0.5 + Math.random()));
          continue;
        }
        throw toStoreError(error, `stream ${stream}`);
      }
    }
  }

  async read(stream: string, options: ReadOptions = {}): Promise<ReadResult> {
    validateStreamName(stream);
    const from = options.from ?? { seqNum: 0 };
    const { count, bytes } = readLimits(options);
    try {
      // Command records are filtered here, not by the SDK, so `next` still advances past them.
      const batch = await this.#basin.stream(stream).read({
        start: { from, clamp: true },
        stop: { limits: { count, bytes } },
      }, { as: "bytes", ...this.#signal() });
      const last = batch.records.at(-1);
      const next = last ? last.seqNum + 1 : await this.#startOf(stream, from);
      return {
        records: batch.records.filter((r) => !isCommand(r)).map(toStored),
        next,
        tail: batch.tail ? position(batch.tail) : undefined,
      };
    } catch (error) {
      if (error instanceof RangeNotSatisfiableError) {
        const tail = error.tail ? position(error.tail) : await this.checkTail(stream);
        return { records: [], next: tail.seqNum, tail };
      }
      throw toStoreError(error, `stream ${stream}`);
    }
  }

  /** Where an empty read started: only a timestamp past the last record lands here. */
  async #startOf(stream: string, from: NonNullable<ReadOptions["from"]>): Promise<number> {
    if ("seqNum" in from) return from.seqNum;
    return (await this.checkTail(stream)).seqNum;
  }

  async *follow(stream: string, options: FollowOptions = {}): AsyncIterable<StoredRecord> {
    validateStreamName(stream);
    const { signal, onCaughtUp } = options;
    let next = options.from ?? 0;
    let failures = 0;
    while (!signal?.aborted) {
      const handle = this.#basin.stream(stream);
      try {
        const opening = handle.readSession(
          { start: { from: { seqNum: next }, clamp: true }, ignoreCommandRecords: true },
          { as: "bytes", signal },
        );
        const session = await untilAbortedOr(opening, signal);
        if (!session) {
          opening.then((late) => late.cancel().catch(() => {}), () => {}); // opened after all: close it
          return;
        }
        session.caughtUp().then((tail) => onCaughtUp?.(tail.seqNum), () => {});
        for await (const record of untilAborted(session, signal)) {
          failures = 0;
          next = record.seqNum + 1;
          yield toStored(record);
          if (session.isCaughtUp()) onCaughtUp?.(session.lastObservedTail()?.seqNum ?? next);
        }
        next = session.nextReadPosition()?.seqNum ?? next;
      } catch (error) {
        if (signal?.aborted) return;
        const failure = toStoreError(error, `stream ${stream}`);
        if (failure.code === "not_found" || failure.code === "invalid") throw failure;
        // Dropped connection or server restart: back off, then reopen from `next`.
        failures++;
        await sleep(Math.min(100 * 2 ** Math.min(failures, 5), 3000) * (0.5 + Math.random() / 2), signal);
      } finally {
        // Closing waits for the connection to drain, which a cancelled read may never do: bounded.
        await untilAbortedOr(handle.close().catch(() => {}), AbortSignal.timeout(1000));
      }
    }
  }

  async checkTail(stream: string): Promise<StreamPosition> {
    validateStreamName(stream);
    try {
      const { tail } = await this.#basin.stream(stream).checkTail(this.#signal());
      return position(tail);
    } catch (error) {
      throw toStoreError(error, `stream ${stream}`);
    }
  }

  async listStreams(options: ListOptions = {}): Promise<ListResult> {
    const limit = listLimit(options);
    try {
      const page = await this.#basin.streams.list(
        { prefix: options.prefix, startAfter: options.startAfter || undefined, limit },
        this.#signal(),
      );
      return { names: page.streams.filter((s) => !s.deletedAt).map((s) => s.name), hasMore: page.hasMore };
    } catch (error) {
      throw toStoreError(error, "streams");
    }
  }

  async deleteStream(stream: string): Promise<void> {
    validateStreamName(stream);
    try {
      await this.#basin.streams.delete({ stream }, this.#signal());
    } catch (error) {
      const failure = toStoreError(error, `stream ${stream}`);
      if (failure.code !== "not_found") throw failure;
    }
  }

  /** Waits for the appends in flight (one its caller did not wait for must not outlive the store). */
  async close(): Promise<void> {
    await Promise.all(this.#appending);
  }

  #signal(): { signal: AbortSignal } {
    return { signal: AbortSignal.timeout(this.#timeoutMs) };
  }
}

/** `promise`'s value, or undefined as soon as `signal` aborts (the promise is left to settle on its own). */
function untilAbortedOr<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T | undefined> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(undefined);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/**
 * Reads `stream` until it ends or `signal` aborts; an abort cancels the
 * reader, which ends a pending read at once and closes the connection. The
 * SDK misses an abort that lands while a read session is opening, and its
 * iterator would then wait for the next record forever.
 */
async function* untilAborted<T>(stream: ReadableStream<T>, signal?: AbortSignal): AsyncIterable<T> {
  const reader = stream.getReader();
  const cancel = () => void reader.cancel().catch(() => {});
  if (signal?.aborted) cancel();
  signal?.addEventListener("abort", cancel, { once: true });
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    signal?.removeEventListener("abort", cancel);
    // A no-op after the end; when the consumer stops early (or a read fails), closes the session, and waits
    // for that (bounded) so its request does not outlive the read.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      reader.cancel().catch(() => {}),
      new Promise<void>((resolve) => timer = setTimeout(resolve, CANCEL_WAIT_MS)),
    ]);
    clearTimeout(timer);
  }
}

/** How long a read that stops early waits for its session to close. */
const CANCEL_WAIT_MS = 1_000;

function toS2Config(config: StreamConfig): S2StreamConfig {
  return {
    timestamping: { mode: "client-require", uncapped: false },
    retentionPolicy: config.retentionAgeSecs ? { ageSecs: config.retentionAgeSecs } : { infinite: {} },
    deleteOnEmpty: { minAgeSecs: config.deleteOnEmptyMinAgeSecs ?? 0 },
  };
}

function position(p: { seqNum: number; timestamp: Date }): StreamPosition {
  return { seqNum: p.seqNum, timestamp: p.timestamp.getTime() };
}

/** Command records carry exactly one header, with an empty name. */
function isCommand(record: ReadRecord<"bytes">): boolean {
  return record.headers.length === 1 && record.headers[0][0].length === 0;
}

function toStored(record: ReadRecord<"bytes">): StoredRecord {
  return {
    seqNum: record.seqNum,
    timestamp: record.timestamp.getTime(),
    headers: record.headers.map(([k, v]): Header => [text.decode(k), text.decode(v)]),
    body: record.body,
  };
}

function isConflict(error: unknown): boolean {
  return error instanceof S2Error && error.status === 409 && error.code === "transaction_conflict";
}

/** The basin creates streams on append, so a missing stream on append is a lost race. */
function isCreateRace(error: unknown): boolean {
  return isConflict(error) || (error instanceof S2Error && error.status === 404 && error.code === "stream_not_found");
}

/** Maps SDK errors to typed store errors; store errors pass through. */
export function toStoreError(error: unknown, what: string): StoreError {
  if (error instanceof StoreError) return error;
  if (error instanceof FencingTokenMismatchError) {
    return new FencingMismatchError(error.expectedFencingToken, { cause: error });
  }
  if (error instanceof SeqNumMismatchError) return new SeqMismatchError(error.expectedSeqNum, { cause: error });
  if (error instanceof S2Error) {
    const options = { cause: error };
    if (error.status === 404) return new NotFoundError(what, options);
    if (error.status === 409 && !isConflict(error)) return new AlreadyExistsError(what, options);
    if (error.status === 413) return new TooLargeError(error.message, options);
    if (error.status === 400 || error.status === 422) return new InvalidError(error.message, options);
    if (error.status === 408 || /timeout|timed out/i.test(error.message)) {
      return new TimeoutError(error.message, options);
    }
    return new UnavailableError(`S2 ${error.status}: ${error.message}`, options);
  }
  if (error instanceof DOMException && error.name === "TimeoutError") return new TimeoutError(what, { cause: error });
  return new UnavailableError(String((error as Error)?.message ?? error), { cause: error });
}
