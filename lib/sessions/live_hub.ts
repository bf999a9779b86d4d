/**
 * Live delivery shared by every viewer of a session in this process.
 *
 * A live session with viewers has one **channel**: one store follow, each
 * record decoded once and each item encoded once (by the caller's `encode`,
 * e.g. as an SSE frame), then handed to every viewer. The channel keeps a
 * bounded ring of recent frames. A viewer joining at `from` catches up from
 * the store with its own decoder until its position is inside the ring, takes
 * the ring's frames from there, and then the shared tail: items are split by
 * the seq number they end at, so the switch has no gap and no duplicate.
 *
 * The channel reads the session from seq 0 but inflates only from the tail it
 * found when it opened (`coveredFrom`): older batches are only remembered, so
 * a retry duplicate of an old batch is still dropped and a frame that
 * straddles the opening tail is still reassembled.
 *
 * Each viewer has a bounded queue; one that falls too far behind is ended
 * with {@link ViewerTooSlowError} and resumes from its last frame (its
 * `Last-Event-ID`). Viewers never slow the channel, the store or ingest.
 *
 * Ended sessions are read by {@link LiveHub.replay}: concurrent viewers of
 * the same session share one read and its encoded frames.
 *
 * @module
 */

import { concatBytes } from "../bytes.ts";
import type { ByteBudget } from "../async.ts";
import { NotFoundError, readAll, type StoredRecord, type StreamStore } from "../store/mod.ts";
import { SessionDecoder, type SessionItem } from "./codec.ts";
import { streamOf } from "./ids.ts";
import { SessionNotFoundError } from "./service.ts";

/** One encoded item; `seqNum` is the item's last record (resume after it). */
export interface Frame {
  seqNum: number;
  bytes: Uint8Array;
}

/** Options for {@link LiveHub}. */
export interface LiveHubOptions {
  store: StreamStore;
  /** Encodes an item of session `id` for the wire; `undefined` = not sent (e.g. heartbeats). */
  encode(item: SessionItem, id: string): Uint8Array | undefined;
  /** The frame that tells a viewer it has reached the live edge (`tail` = the store's tail then). */
  liveFrame?: (tail: number) => Uint8Array;
  /** Recent frames a channel keeps for joiners: at most this many (default 128)… */
  ringFrames?: number;
  /** …and this many bytes (default 4 MiB). */
  ringBytes?: number;
  /** Bytes one viewer may have queued before it is ended as too slow (default 1 MiB). */
  queueBytes?: number;
  /**
   * How far a shared read of an ended session runs ahead of its fastest viewer, in encoded bytes (default
   * 8 MiB); a viewer further behind than that is ended as too slow and resumes on a read of its own.
   */
  replayBytes?: number;
  /** Large batches being decoded take their bytes from it (see SessionDecoder). */
  budget?: ByteBudget;
  /**
   * Writes an item to one viewer catching up from the store, without encoding it whole (e.g. sending
   * `jsonPieces` on); the default writes what `encode` makes.
   */
  writeCatchUp?(item: SessionItem, id: string, sink: FrameSink): Promise<void>;
}

/** Frames joined into one chunk at most (when a consumer catches up): bounded copies. */
const CHUNK_BYTES = 256 * 1024;

/** A viewer fell further behind than its queue allows; it should reconnect from its last frame. */
export class ViewerTooSlowError extends Error {
  override name = "ViewerTooSlowError";
}

/** Where a viewer's frames go: a response body, or the queue behind {@link LiveHub.follow}. */
export interface FrameSink {
  /** Catch-up: takes a frame, resolving when there is room for more. */
  write(bytes: Uint8Array): Promise<void>;
  /** Live: takes a frame now, or returns false when the viewer has no room for it (it is too slow). */
  offer(bytes: Uint8Array): boolean;
  /** The most a viewer may have waiting. */
  readonly queueBytes: number;
}

interface Viewer {
  sink: FrameSink;
  /** Seq number of the last frame given; frames at or below it are not given again. */
  last: number;
  announced: boolean;
  /** Resolved when the session stops, rejected when the viewer is too slow or the channel fails. */
  done: PromiseWithResolvers<void>;
}

class Channel {
  readonly abort = new AbortController();
  readonly viewers = new Set<Viewer>();
  /** Viewers attached or still catching up: the channel lives while there are any. */
  members = 0;
  ring: Frame[] = [];
  ringBytes = 0;
  /** Every item that ends at or after this seq number is in the ring (or still to come). */
  coveredFrom = 0;
  liveFrame?: Uint8Array;
  ended = false;
  error?: unknown;
  ready!: Promise<void>;
}

class Replay {
  /** New viewers may join while the first frame is still kept. */
  get joinable(): boolean {
    return this.base === 0 && !this.closed;
  }
  closed = false;
  frames: Uint8Array[] = [];
  /** Index of `frames[0]` in the whole replay (frames every reader has passed are dropped). */
  base = 0;
  bytes = 0;
  /** Each reader's next frame index. */
  readers = new Map<object, number>();
  done = false;
  error?: unknown;
  /** Readers waiting for frames, and the producer waiting for readers (woken alike). */
  waiters: Array<() => void> = [];
  wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}

/** Shares one read per session among its viewers. */
export class LiveHub {
  #store: StreamStore;
  #encode: LiveHubOptions["encode"];
  #liveFrame: LiveHubOptions["liveFrame"];
  #ringCap: number;
  #ringFrames: number;
  #queueCap: number;
  #replayCap: number;
  #budget?: ByteBudget;
  #writeCatchUp?: LiveHubOptions["writeCatchUp"];
  #channels = new Map<string, Channel>();
  #replays = new Map<string, Replay>();

  constructor(options: LiveHubOptions) {
    this.#store = options.store;
    this.#encode = options.encode;
    this.#liveFrame = options.liveFrame;
    this.#ringCap = options.ringBytes ?? 4 * 1024 * 1024;
    this.#ringFrames = options.ringFrames ?? 128;
    this.#queueCap = options.queueBytes ?? 1024 * 1024;
    this.#replayCap = options.replayBytes ?? 8 * 1024 * 1024;
    this.#budget = options.budget;
    this.#writeCatchUp = options.writeCatchUp;
  }

  /** Sessions with a channel open, and viewers attached to them; shared reads of ended sessions. */
  get stats(): { channels: number; viewers: number; replays: number } {
    let viewers = 0;
    for (const channel of this.#channels.values()) viewers += channel.members;
    return { channels: this.#channels.size, viewers, replays: this.#replays.size };
  }

  /** The most a viewer may have waiting before it counts as too slow. */
  get queueBytes(): number {
    return this.#queueCap;
  }

  /** Whether a channel follows `id` (and has not seen its stop). */
  isFollowing(id: string): boolean {
    const channel = this.#channels.get(id);
    return channel !== undefined && !channel.ended && channel.error === undefined;
  }

  /**
   * Delivers a live session's frames from `from` on into `sink`, until its
   * stop record (resolves) or `signal` (resolves). Rejects with
   * {@link ViewerTooSlowError} when the sink has no room for a live frame.
   */
  async deliver(id: string, from: number, signal: AbortSignal, sink: FrameSink): Promise<void> {
    const channel = this.#join(id);
    const done = Promise.withResolvers<void>();
    const viewer: Viewer = { sink, last: from - 1, announced: false, done };
    const stop = () => done.resolve();
    signal.addEventListener("abort", stop);
    try {
      await channel.ready;
      // Catch up from the store until our position is one the ring covers.
      let pos = from;
      if (pos < channel.coveredFrom) {
        const decoder = new SessionDecoder({ budget: this.#budget, inflates: !this.#writeCatchUp });
        try {
          while (pos < channel.coveredFrom && !signal.aborted && !channel.error) {
            const before = pos;
            for await (const record of readAll(this.#store, streamOf(id), pos)) {
              pos = record.seqNum + 1;
              for (const item of await decoder.push(record)) {
                if (this.#writeCatchUp) await this.#writeCatchUp(item, id, sink);
                else {
                  const bytes = this.#encode(item, id);
                  if (bytes) await sink.write(bytes);
                }
                viewer.last = item.seqNum;
                if (item.kind === "stop") return;
              }
              if (pos >= channel.coveredFrom || signal.aborted) break;
            }
            if (pos === before) break; // nothing more in the store: the ring covers the rest
          }
        } finally {
          decoder.close();
        }
        pos = Math.max(pos, channel.coveredFrom);
      }
      if (signal.aborted) return;
      if (channel.error) throw channel.error;
      // Attach: the ring's frames from our position, then the shared tail (same tick: nothing in between).
      channel.viewers.add(viewer);
      for (const frame of channel.ring) if (frame.seqNum >= pos) this.#offer(channel, viewer, frame);
      if (channel.liveFrame && !channel.ended) this.#announce(viewer, channel.liveFrame);
      if (channel.ended) done.resolve();
      await done.promise;
    } finally {
      signal.removeEventListener("abort", stop);
      channel.viewers.delete(viewer);
      this.#leave(id, channel);
    }
  }

  /**
   * {@link deliver} as an async generator of chunks (frames joined while the
   * consumer is behind), with a bounded queue; throws
   * {@link ViewerTooSlowError} once what was queued has been taken.
   */
  async *follow(id: string, from: number, signal: AbortSignal): AsyncGenerator<Uint8Array> {
    const stop = new AbortController();
    const both = AbortSignal.any([signal, stop.signal]);
    const queue: Uint8Array[] = [];
    let queued = 0;
    let wake: (() => void) | undefined;
    let room: (() => void) | undefined;
    const push = (bytes: Uint8Array) => {
      queue.push(bytes);
      queued += bytes.length;
      wake?.();
    };
    const sink: FrameSink = {
      async write(bytes) {
        push(bytes);
        while (queued > this.queueBytes && !both.aborted) await new Promise<void>((r) => room = r);
      },
      offer(bytes) {
        if (queue.length > 0 && queued + bytes.length > this.queueBytes) return false;
        push(bytes);
        return true;
      },
      queueBytes: this.#queueCap,
    };
    let outcome: { error?: unknown } | undefined;
    const delivering = this.deliver(id, from, both, sink).then(() => outcome = {}, (error) => outcome = { error })
      .finally(() => wake?.());
    const abort = () => wake?.();
    signal.addEventListener("abort", abort);
    try {
      while (!signal.aborted) {
        if (queue.length > 0) {
          // Frames joined while the consumer was behind, up to a bound: one copy of a few, never of a whole queue.
          let n = 0;
          let size = 0;
          while (n < queue.length && (n === 0 || size + queue[n].length <= CHUNK_BYTES)) size += queue[n++].length;
          const taken = queue.splice(0, n);
          queued -= size;
          room?.();
          yield n === 1 ? taken[0] : concatBytes(taken);
          continue;
        }
        if (outcome) {
          if (outcome.error) throw outcome.error;
          return;
        }
        await new Promise<void>((resolve) => wake = resolve);
        wake = undefined;
      }
    } finally {
      signal.removeEventListener("abort", abort);
      stop.abort();
      room?.();
      await delivering; // the viewer has left its channel when this generator is done
    }
  }

  /**
   * An ended session's frames from the start. Concurrent viewers share one
   * read, which runs at most `replayBytes` ahead of its fastest viewer; a
   * viewer that falls further behind than that is ended with
   * {@link ViewerTooSlowError} (it resumes from its last frame on a read of
   * its own), and frames every remaining viewer has passed are dropped. New
   * viewers join while the first frame is still kept.
   */
  async *replay(id: string, signal: AbortSignal): AsyncGenerator<Uint8Array> {
    let replay = this.#replays.get(id);
    if (!replay || !replay.joinable) {
      replay = new Replay();
      this.#replays.set(id, replay);
      this.#produce(id, replay);
    }
    const reader = {};
    replay.readers.set(reader, replay.base);
    const wake = () => replay.wake();
    signal.addEventListener("abort", wake);
    try {
      while (!signal.aborted) {
        const index = replay.readers.get(reader);
        if (index === undefined) throw new ViewerTooSlowError("the viewer fell too far behind the shared read");
        const available = replay.base + replay.frames.length;
        if (index < available) {
          let n = 0;
          let size = 0;
          const from = index - replay.base;
          while (from + n < replay.frames.length && (n === 0 || size + replay.frames[from + n].length <= CHUNK_BYTES)) {
            size += replay.frames[from + n++].length;
          }
          const frames = replay.frames.slice(from, from + n);
          replay.readers.set(reader, index + n);
          this.#trim(replay);
          replay.wake(); // the read may be waiting for its fastest viewer
          yield n === 1 ? frames[0] : concatBytes(frames);
          continue;
        }
        if (replay.error) throw replay.error;
        if (replay.done) return;
        await new Promise<void>((resolve) => replay.waiters.push(resolve));
      }
    } finally {
      signal.removeEventListener("abort", wake);
      replay.readers.delete(reader);
      if (replay.readers.size === 0) this.#close(id, replay);
      this.#trim(replay);
      replay.wake();
    }
  }

  async #produce(id: string, replay: Replay): Promise<void> {
    const decoder = new SessionDecoder({ budget: this.#budget });
    try {
      for await (const record of readAll(this.#store, streamOf(id))) {
        for (const item of await decoder.push(record)) {
          const bytes = this.#encode(item, id);
          if (!bytes) continue;
          replay.frames.push(bytes);
          replay.bytes += bytes.length;
          replay.wake();
          // Far enough ahead of the fastest viewer: wait for it. Viewers that far behind it are ended.
          while (replay.readers.size > 0 && this.#ahead(replay) > this.#replayCap) {
            this.#dropSlow(replay);
            await new Promise<void>((resolve) => replay.waiters.push(resolve));
          }
          if (replay.readers.size === 0) return; // everyone left
        }
      }
    } catch (error) {
      replay.error = error instanceof NotFoundError ? new SessionNotFoundError(id) : error;
    } finally {
      decoder.close();
      replay.done = true;
      replay.wake();
      // A finished read is not kept: the next viewer starts a new one (the session may have been deleted).
      this.#close(id, replay);
    }
  }

  /** Bytes the read holds beyond its fastest viewer. */
  #ahead(replay: Replay): number {
    const fastest = Math.max(...replay.readers.values());
    let bytes = 0;
    for (let i = Math.max(0, fastest - replay.base); i < replay.frames.length; i++) bytes += replay.frames[i].length;
    return bytes;
  }

  /** Ends the viewers that are `replayBytes` behind the fastest one (their next step throws); frees their frames. */
  #dropSlow(replay: Replay): void {
    const fastest = Math.max(...replay.readers.values());
    let behind = 0;
    const cutoff = new Map<number, number>(); // frame index → bytes from it up to the fastest viewer
    for (let i = fastest - 1; i >= replay.base; i--) cutoff.set(i, behind += replay.frames[i - replay.base].length);
    for (const [reader, index] of replay.readers) {
      if ((cutoff.get(index) ?? 0) > this.#replayCap) replay.readers.delete(reader);
    }
    if (replay.readers.size === 0) return;
    this.#trim(replay);
    replay.wake();
  }

  /** No one new joins this read. */
  #close(id: string, replay: Replay): void {
    replay.closed = true;
    if (this.#replays.get(id) === replay) this.#replays.delete(id);
  }

  /** Drops frames every reader has passed, once no one new can join (or the read is more than its bound). */
  #trim(replay: Replay): void {
    if (replay.joinable && replay.bytes <= this.#replayCap) return;
    const min = replay.readers.size ? Math.min(...replay.readers.values()) : replay.base + replay.frames.length;
    const drop = min - replay.base;
    if (drop <= 0) return;
    for (const frame of replay.frames.splice(0, drop)) replay.bytes -= frame.length;
    replay.base = min;
  }

  #join(id: string): Channel {
    let channel = this.#channels.get(id);
    if (!channel || channel.ended) {
      channel = new Channel();
      this.#channels.set(id, channel);
      channel.ready = this.#open(id, channel);
      channel.ready.catch(() => {}); // awaited by every joiner
    }
    channel.members++;
    return channel;
  }

  #leave(id: string, channel: Channel): void {
    channel.members--;
    if (channel.members > 0) return;
    channel.abort.abort();
    if (this.#channels.get(id) === channel) this.#channels.delete(id);
  }

  async #open(id: string, channel: Channel): Promise<void> {
    const stream = streamOf(id);
    try {
      channel.coveredFrom = (await this.#store.checkTail(stream)).seqNum;
    } catch (error) {
      this.#fail(id, channel, error);
      throw channel.error;
    }
    void this.#run(id, channel);
  }

  async #run(id: string, channel: Channel): Promise<void> {
    const decoder = new SessionDecoder({ budget: this.#budget });
    const onCaughtUp = (tail: number) => {
      if (channel.liveFrame || !this.#liveFrame) return;
      channel.liveFrame = this.#liveFrame(tail);
      for (const viewer of channel.viewers) this.#announce(viewer, channel.liveFrame);
    };
    try {
      const records = this.#store.follow(streamOf(id), { from: 0, signal: channel.abort.signal, onCaughtUp });
      for await (const record of records) {
        if (await this.#broadcast(id, channel, decoder, record)) break;
      }
      if (!channel.abort.signal.aborted) channel.ended = true;
    } catch (error) {
      if (!channel.abort.signal.aborted) this.#fail(id, channel, error);
    } finally {
      decoder.close();
      if (channel.ended || channel.error) {
        if (this.#channels.get(id) === channel) this.#channels.delete(id);
        channel.abort.abort();
        for (const viewer of channel.viewers) viewer.done.resolve();
      }
    }
  }

  /** Decodes one record into the ring and every viewer's queue; true once the session has stopped. */
  async #broadcast(id: string, channel: Channel, decoder: SessionDecoder, record: StoredRecord): Promise<boolean> {
    const fresh = record.seqNum >= channel.coveredFrom;
    for (const item of await decoder.push(record, fresh)) {
      const stopped = item.kind === "stop";
      if (stopped) channel.ended = true;
      if (!fresh) {
        if (stopped) return true;
        continue;
      }
      const bytes = this.#encode(item, id);
      if (bytes) {
        const frame = { seqNum: item.seqNum, bytes };
        channel.ring.push(frame);
        channel.ringBytes += bytes.length;
        // A frame larger than the ring is not kept either: joiners read it from the store, within the budget.
        while (
          (channel.ringBytes > this.#ringCap || channel.ring.length > this.#ringFrames) && channel.ring.length > 0
        ) {
          const old = channel.ring.shift()!;
          channel.ringBytes -= old.bytes.length;
          channel.coveredFrom = old.seqNum + 1;
        }
        for (const viewer of channel.viewers) this.#offer(channel, viewer, frame);
      }
      if (stopped) {
        for (const viewer of channel.viewers) viewer.done.resolve();
        return true;
      }
    }
    return false;
  }

  #offer(channel: Channel, viewer: Viewer, frame: Frame): void {
    if (frame.seqNum <= viewer.last) return;
    if (viewer.sink.offer(frame.bytes)) viewer.last = frame.seqNum;
    else {
      channel.viewers.delete(viewer); // what it has is still sent; then it reconnects from there
      viewer.done.reject(new ViewerTooSlowError("the viewer fell too far behind the live tail"));
    }
  }

  #announce(viewer: Viewer, frame: Uint8Array): void {
    if (viewer.announced) return;
    viewer.announced = true;
    viewer.sink.offer(frame);
  }

  #fail(id: string, channel: Channel, error: unknown): void {
    channel.error = error instanceof NotFoundError ? new SessionNotFoundError(id) : error;
    for (const viewer of channel.viewers) viewer.done.reject(channel.error);
  }
}
