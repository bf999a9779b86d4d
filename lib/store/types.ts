/**
 * The stream-store interface: everything RePlaya needs from S2, and nothing
 * S2-specific. Two backends implement it (`s2.ts`, `sqlite.ts`) with the same
 * semantics; the contract tests in `tests/store/` hold them to it.
 *
 * @module
 */

/** A header: name and value, both UTF-8 strings. */
export type Header = [name: string, value: string];

/** A data record to append. `timestamp` is the client's capture time in ms. */
export interface RecordInput {
  body: Uint8Array;
  headers?: Header[];
  /** Milliseconds since the epoch. Required: streams use client-required timestamps. */
  timestamp: number;
}

/** A fence command record: sets the stream's fencing token to `fence`. */
export interface FenceInput {
  fence: string;
  timestamp?: number;
}

/** One entry of an append batch. */
export type AppendItem = RecordInput | FenceInput;

/** Conditions checked atomically before a batch is written. */
export interface AppendOptions {
  /** The batch is rejected unless the stream's current fencing token equals this. */
  fencingToken?: string;
  /** The batch is rejected unless the stream's next seq number equals this. */
  matchSeqNum?: number;
}

/** A position in a stream: a seq number and the timestamp at that point. */
export interface StreamPosition {
  seqNum: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
}

/** What an append returns: `[start, end)` written, `tail` = next seq to assign. */
export interface AppendAck {
  start: StreamPosition;
  end: StreamPosition;
  tail: StreamPosition;
}

/** A stored data record. Command records (fences) are never returned by reads. */
export interface StoredRecord {
  seqNum: number;
  timestamp: number;
  headers: Header[];
  body: Uint8Array;
}

/** Where a read starts. */
export type ReadFrom =
  | { seqNum: number }
  | { timestamp: number }
  | { tailOffset: number };

/** A bounded read of a range. */
export interface ReadOptions {
  from?: ReadFrom;
  /** At most this many records (default and maximum 1000). */
  count?: number;
  /** At most this many metered bytes (default and maximum 1 MiB). */
  bytes?: number;
}

/** The result of a bounded read; `tail` is the stream's tail when known. */
export interface ReadResult {
  records: StoredRecord[];
  /** The seq number to read from next. */
  next: number;
  tail?: StreamPosition;
}

/** Options for following a stream live. */
export interface FollowOptions {
  /** Seq number to start at (default 0). */
  from?: number;
  /** Stops the follower; the iterator then ends without error. */
  signal?: AbortSignal;
  /** Called every time the follower has delivered everything up to the tail. */
  onCaughtUp?: (tail: number) => void;
}

/** Per-stream configuration. */
export interface StreamConfig {
  /** Records older than this are removed by the store. */
  retentionAgeSecs?: number;
  /** An empty stream older than this is deleted by the store; 0 disables. */
  deleteOnEmptyMinAgeSecs?: number;
}

/** A page of stream names in byte-wise lexicographic order. */
export interface ListResult {
  names: string[];
  hasMore: boolean;
}

/** Options for listing streams. */
export interface ListOptions {
  prefix?: string;
  /** Exclusive lower bound. */
  startAfter?: string;
  /** 1–1000, default 1000. */
  limit?: number;
}

/** Where a store keeps its data, for health reports. */
export interface StoreInfo {
  backend: "s2" | "sqlite";
  /** The data file, or the S2 basin endpoint. */
  location: string;
  basin?: string;
}

/**
 * The stream store. One stream per browser session, plus a few sidecar
 * streams. Implementations: {@link import("./s2.ts").S2Store} and
 * {@link import("./sqlite.ts").SqliteStore}.
 */
export interface StreamStore {
  readonly info: StoreInfo;
  /** Creates a stream with its configuration; rejects with `AlreadyExistsError` if it exists. */
  createStream(name: string, config?: StreamConfig): Promise<void>;
  /** The stream's retention and delete-on-empty settings. */
  getStreamConfig(name: string): Promise<StreamConfig>;
  /** Appends a batch atomically: all records or none. */
  append(stream: string, items: AppendItem[], options?: AppendOptions): Promise<AppendAck>;
  /** Reads a bounded range of data records; reading at the tail returns no records. */
  read(stream: string, options?: ReadOptions): Promise<ReadResult>;
  /** Follows a stream live: yields records as they are appended, until aborted. */
  follow(stream: string, options?: FollowOptions): AsyncIterable<StoredRecord>;
  /** The next seq number to be assigned and the timestamp of the last record. */
  checkTail(stream: string): Promise<StreamPosition>;
  /** Lists stream names in byte-wise lexicographic order. */
  listStreams(options?: ListOptions): Promise<ListResult>;
  /** Deletes a stream; deleting a missing stream is not an error. */
  deleteStream(stream: string): Promise<void>;
  /** Releases connections, timers and file handles. */
  close(): Promise<void>;
}

/** Batch limits shared by both backends (S2's limits). */
export const MAX_BATCH_RECORDS = 1000;
/** 1 MiB of metered bytes per batch, and so per record. */
export const MAX_BATCH_BYTES = 1024 * 1024;
/** The longest fencing token S2 accepts, in bytes. */
export const MAX_FENCE_BYTES = 36;

const utf8 = new TextEncoder();

/** Whether an append item is a fence command. */
export function isFence(item: AppendItem): item is FenceInput {
  return "fence" in item;
}

/**
 * S2's metered size of a record: 8 + 2 per header + header bytes + body bytes.
 * A fence is a command record with one empty-named header `fence`.
 *
 * @example
 * meteredBytes({ body: new Uint8Array(10), timestamp: 0 }); // 18
 */
export function meteredBytes(item: AppendItem): number {
  if (isFence(item)) return 8 + 2 + 5 + utf8.encode(item.fence).length;
  let size = 8 + item.body.length;
  for (const [name, value] of item.headers ?? []) {
    size += 2 + utf8.encode(name).length + utf8.encode(value).length;
  }
  return size;
}
