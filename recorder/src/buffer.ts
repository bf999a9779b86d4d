/**
 * Memory-bounded event buffer. Events wait in `pending` until they are sealed
 * into numbered batches; sealed batches stay until the server acknowledges
 * them. When the total exceeds the bound, the oldest events are replaced by a
 * `replaya.gap` marker, sparing the latest full snapshot and its meta event so
 * the replay can still start.
 *
 * With a scheduler (in a page), `push` only queues the event: serialising it
 * (and the `prepare` step, URL scrubbing) runs in slices later, in order, so
 * the page's task that emitted it is not made longer. `drain` finishes that
 * work at once, for a page that is going away.
 * @module
 */
import { customEvent } from "./custom_event.ts";
import { EventType, type GapPayload, type RrwebEvent } from "./wire.ts";
import { utf8Length } from "./size.ts";
import { fitCount } from "./batch.ts";
import { JsonJob } from "./json.ts";
import { idleScheduler, type Scheduler } from "./schedule.ts";

/** Applied to an event just before it is serialised (e.g. URL scrubbing). */
export type Prepare = (event: RrwebEvent) => RrwebEvent;

/** An event waiting to be serialised. */
interface Raw {
  event: RrwebEvent;
  prepare?: Prepare;
  job?: JsonJob;
}

/** One buffered event, kept as JSON so it is serialised only once. */
export interface Entry {
  /** The event as JSON text. */
  json: string;
  /** UTF-8 bytes of `json`. */
  size: number;
  /** rrweb event type. */
  type: number;
  /** Event timestamp. */
  timestamp: number;
  /** Set on gap markers: what they stand for. */
  gap?: GapPayload;
}

/** A numbered group of events sent in one request; retries reuse its seq. */
export interface Batch {
  /** Per-writer sequence number. */
  seq: number;
  /** Events in order. */
  entries: Entry[];
  /** Sum of entry sizes. */
  bytes: number;
  /** True while a request carrying this batch is outstanding. */
  inFlight: boolean;
}

/** Wraps an event as a buffer entry. */
export function toEntry(event: RrwebEvent): Entry {
  const json = JSON.stringify(event);
  return {
    json,
    size: utf8Length(json),
    type: event.type,
    timestamp: event.timestamp,
  };
}

/** A `replaya.gap` marker at `timestamp` (default: where the gap starts). */
export function gapEntry(gap: GapPayload, timestamp = gap.from): Entry {
  const entry = toEntry(customEvent("replaya.gap", { ...gap }, timestamp));
  entry.gap = gap;
  return entry;
}

/** Bounded queue of unsent events and batches for one writer. */
export class EventBuffer {
  #pending: Entry[] = [];
  #pendingBytes = 0;
  #batches: Batch[] = [];
  #total = 0;
  #nextSeq = 0;
  #dropped = false;
  #raw: Raw[] = [];
  #scheduled = false;
  #schedule?: Scheduler;
  /** Called after deferred events were serialised (the uploader plans a flush). */
  onReady?: () => void;

  /**
   * @param maxBytes bound on the JSON bytes of everything unsent.
   * @param schedule where deferred serialisation runs; without one (outside
   * a page, by default) `push` serialises at once.
   */
  constructor(readonly maxBytes: number, schedule: Scheduler | undefined = idleScheduler()) {
    this.#schedule = schedule;
  }

  /** Events pushed but not serialised yet. */
  get deferredCount(): number {
    return this.#raw.length;
  }

  /** Bytes of events not yet sealed into a batch. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** Bytes of everything held (pending and sealed). */
  get totalBytes(): number {
    return this.#total;
  }

  /** Number of events not yet sealed. */
  get pendingCount(): number {
    return this.#pending.length;
  }

  /** The seq the next sealed batch will get (also "the seq after the last batch"). */
  get nextSeq(): number {
    return this.#nextSeq;
  }

  /** Sealed batches not yet acknowledged, oldest first. */
  get batches(): readonly Batch[] {
    return this.#batches;
  }

  /** True when nothing at all is waiting. */
  get isEmpty(): boolean {
    return this.#pending.length === 0 && this.#batches.length === 0 && this.#raw.length === 0;
  }

  /** Returns and clears the "events were dropped since last asked" flag. */
  takeDropped(): boolean {
    const d = this.#dropped;
    this.#dropped = false;
    return d;
  }

  /**
   * Appends an event (`prepare` applied first), then enforces the memory
   * bound; with a scheduler both happen later, in order.
   */
  push(event: RrwebEvent, prepare?: Prepare): void {
    if (!this.#schedule) {
      this.#add(toEntry(prepare ? prepare(event) : event));
      return;
    }
    this.#raw.push({ event, prepare });
    this.#kick();
  }

  /** Serialises every deferred event now (the page is going away, or a flush must send everything). */
  drain(): void {
    const added = this.#work(() => Infinity);
    if (added) this.onReady?.();
  }

  #kick(): void {
    if (this.#scheduled || !this.#schedule) return;
    this.#scheduled = true;
    this.#schedule((timeLeft) => {
      this.#scheduled = false;
      const added = this.#work(timeLeft);
      if (this.#raw.length > 0) this.#kick();
      if (added) this.onReady?.();
    });
  }

  /** Serialises deferred events, oldest first, while time is left; true if any was added. */
  #work(timeLeft: () => number): boolean {
    let added = false;
    while (this.#raw.length > 0 && timeLeft() > 0) {
      const raw = this.#raw[0];
      try {
        if (!raw.job) {
          const event = raw.prepare ? raw.prepare(raw.event) : raw.event;
          raw.event = event;
          raw.prepare = undefined;
          raw.job = new JsonJob(event);
        }
        const json = raw.job.run(timeLeft);
        if (json === undefined) break;
        this.#raw.shift();
        this.#add({ json, size: raw.job.bytes, type: raw.event.type, timestamp: raw.event.timestamp });
        added = true;
      } catch {
        // An event that cannot be serialised (a cycle) is left out, as push would have thrown.
        this.#raw.shift();
      }
    }
    return added;
  }

  #add(entry: Entry): void {
    this.#pending.push(entry);
    this.#pendingBytes += entry.size;
    this.#total += entry.size;
    this.#enforce();
  }

  /**
   * Seals pending events (oldest first) into a new batch whose events take at
   * most `maxBytes` (one comma each counted); a single larger event goes alone.
   * Returns undefined when nothing is pending.
   */
  seal(maxBytes: number): Batch | undefined {
    if (this.#pending.length === 0) return undefined;
    const n = fitCount(this.#pending.map((e) => e.size), maxBytes);
    const entries = this.#pending.splice(0, n);
    return this.#addBatch(entries, sum(entries));
  }

  /** Seals an empty batch: a heartbeat, which still consumes a seq. */
  sealEmpty(): Batch {
    return this.#addBatch([], 0);
  }

  /** The oldest sealed batch not in flight, else a newly sealed one. */
  next(maxBytes: number): Batch | undefined {
    return this.#batches.find((b) => !b.inFlight) ?? this.seal(maxBytes);
  }

  /** Forgets a batch (acknowledged, or rejected by the server). */
  remove(batch: Batch): void {
    const i = this.#batches.indexOf(batch);
    if (i < 0) return;
    this.#batches.splice(i, 1);
    this.#total -= batch.bytes;
  }

  /**
   * Drops everything for a new session (seq 0 again) and says what was
   * dropped, counting the events earlier gap markers stood for; undefined
   * when nothing was waiting.
   */
  discard(): GapPayload | undefined {
    this.#work(() => Infinity);
    let gap: GapPayload | undefined;
    for (const entry of [...this.#batches.flatMap((b) => b.entries), ...this.#pending]) {
      const events = entry.gap?.droppedEvents ?? 1;
      const bytes = entry.gap?.droppedBytes ?? entry.size;
      const from = entry.gap?.from ?? entry.timestamp;
      const to = entry.gap?.to ?? entry.timestamp;
      gap = gap
        ? {
          ...gap,
          droppedEvents: gap.droppedEvents + events,
          droppedBytes: gap.droppedBytes + bytes,
          from: Math.min(gap.from, from),
          to: Math.max(gap.to, to),
        }
        : { droppedEvents: events, droppedBytes: bytes, from, to, reason: "session_ended" };
    }
    this.clear(true);
    return gap;
  }

  /** Drops everything; with `resetSeq` the next batch is seq 0 again (new session). */
  clear(resetSeq: boolean): void {
    this.#raw = [];
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#batches = [];
    this.#total = 0;
    if (resetSeq) this.#nextSeq = 0;
  }

  #addBatch(entries: Entry[], bytes: number): Batch {
    const batch: Batch = {
      seq: this.#nextSeq++,
      entries,
      bytes,
      inFlight: false,
    };
    this.#pendingBytes -= bytes;
    this.#batches.push(batch);
    return batch;
  }

  /** Entries that must survive: the latest full snapshot and the meta event before it. */
  #protected(): Set<Entry> {
    const lists = [...this.#batches.map((b) => b.entries), this.#pending];
    const keep = new Set<Entry>();
    for (let l = lists.length - 1; l >= 0; l--) {
      for (let i = lists[l].length - 1; i >= 0; i--) {
        const e = lists[l][i];
        if (keep.size === 0) {
          if (e.type === EventType.FullSnapshot) keep.add(e);
        } else if (e.type === EventType.Meta) {
          keep.add(e);
          return keep;
        }
      }
    }
    return keep;
  }

  #enforce(): void {
    if (this.#total <= this.maxBytes) return;
    const keep = this.#protected();
    for (const batch of this.#batches) {
      // An in-flight body is already on the wire; leave it intact.
      if (batch.inFlight) continue;
      const before = batch.bytes;
      batch.entries = this.#trim(batch.entries, keep);
      batch.bytes = sum(batch.entries);
      this.#total += batch.bytes - before;
      if (this.#total <= this.maxBytes) return;
    }
    const before = this.#pendingBytes;
    this.#pending = this.#trim(this.#pending, keep);
    this.#pendingBytes = sum(this.#pending);
    this.#total += this.#pendingBytes - before;
  }

  /** Drops oldest droppable entries of one list until under budget, merging gaps. */
  #trim(entries: Entry[], keep: Set<Entry>): Entry[] {
    const out: Entry[] = [];
    let total = this.#total;
    for (const e of entries) {
      if (total <= this.maxBytes || keep.has(e) || e.gap) {
        out.push(e);
        continue;
      }
      this.#dropped = true;
      const last = out[out.length - 1];
      if (last?.gap) {
        const merged = gapEntry({
          ...last.gap,
          droppedEvents: last.gap.droppedEvents + 1,
          droppedBytes: last.gap.droppedBytes + e.size,
          to: Math.max(last.gap.to, e.timestamp),
        });
        out[out.length - 1] = merged;
        total += merged.size - last.size - e.size;
      } else {
        const gap = gapEntry({
          droppedEvents: 1,
          droppedBytes: e.size,
          from: e.timestamp,
          to: e.timestamp,
          reason: "buffer_full",
        });
        out.push(gap);
        total += gap.size - e.size;
      }
    }
    return out;
  }
}

function sum(entries: Entry[]): number {
  let n = 0;
  for (const e of entries) n += e.size;
  return n;
}
