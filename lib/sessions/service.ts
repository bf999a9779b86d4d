/**
 * The session model on top of the stream store: create, append, heartbeat,
 * stop, read and follow. The fencing token is the lifecycle: `active` while
 * recording, `stopped` after, so a late writer can never reopen a session.
 *
 * @module
 */

import {
  type AppendAck,
  FencingMismatchError,
  NotFoundError,
  readAll,
  SeqMismatchError,
  type StreamStore,
} from "../store/mod.ts";
import {
  batchKeyOf,
  batchStatsOf,
  encodeEvents,
  heartbeatRecord,
  kindOf,
  metaRecord,
  SessionDecoder,
  type SessionItem,
  stopRecord,
} from "./codec.ts";
import type { GapPayload, RrwebEvent, SessionEnd, SessionMeta, StopInfo } from "@replaya/recorder/wire";
import { Watchers } from "./watchers.ts";
import { type FirstFrame, firstFrameOf } from "./first_frame.ts";
import type { IntranetOptions } from "../../shared/intranet.ts";
import { addPageUrls } from "./events.ts";
import { createdAtOf, INDEX_STREAM, newSessionId, streamOf } from "./ids.ts";
import { addStats, appendSummary, type EndSummary, type StartSummary, startSummary } from "./summaries.ts";
import { appendUserSummary, normalizeUserId } from "./users.ts";
import { type RunningCounts, RunningTally } from "./running.ts";
import {
  addCounts,
  advanceFriction,
  countSignals,
  DEFAULT_FRICTION,
  detectFriction,
  finishFriction,
  type FrictionConfig,
  type FrictionState,
  newFrictionState,
} from "./friction.ts";
import { redactEvents, RedactionBudgetError, redactJson, type Redactor, type RedactPace } from "./redact.ts";
import { log } from "../log.ts";
import type { ByteBudget } from "../async.ts";

/** The fencing token of a recording session. */
export const ACTIVE = "active";
/** The fencing token of an ended session. */
export const STOPPED = "stopped";

/** The session has ended; writes get 409 and the recorder starts a new one. */
export class SessionStoppedError extends Error {
  override name = "SessionStoppedError";
}

/** No such session. */
export class SessionNotFoundError extends Error {
  override name = "SessionNotFoundError";
}

/** Whether a session still records; `disconnected` = live but quiet for longer than the lease; `end` once stopped. */
export interface SessionStatus {
  live: boolean;
  disconnected?: boolean;
  end?: SessionEnd;
}

/** Options for {@link Sessions}. */
export interface SessionsOptions {
  store: StreamStore;
  /** A session with no events or heartbeats for this long shows as disconnected (default 45 s). */
  leaseMs?: number;
  /**
   * A session with no records for this long is stopped, by the next reader or
   * writer (default 6 min). It is the recorder's outage horizon: until then a
   * recorder buffering through a store outage or a server restart delivers
   * into the same session, and nobody can end it under its feet.
   */
  fenceAfterMs?: number;
  now?: () => number;
  /** Deletes what belongs to a deleted session outside the session streams (its asset map). */
  onDelete?: (id: string) => Promise<void>;
  /** Friction signal thresholds (friction.ts). */
  friction?: FrictionConfig;
  /**
   * PII redaction before anything is stored (redact.ts); absent = none. `skipProjects` are recorded as sent;
   * `pace` bounds each batch's scan (a batch over its budget is stored as a gap marker, never unredacted).
   */
  redaction?: { redactor: Redactor; skipProjects?: ReadonlySet<string>; pace?: RedactPace };
}

/** Sessions whose friction state is kept in memory (least recently written dropped first). */
const MAX_FRICTION_STATES = 10_000;

/** Client clocks further off than this are corrected to the server's. */
const MAX_CLOCK_SKEW_MS = 2_000;

/** A first frame is looked for in this many items at most (a session's snapshot comes in its first batch or two). */
const FIRST_FRAME_ITEMS = 8;

/**
 * Sessions over a stream store.
 *
 * @example
 * const sessions = new Sessions({ store });
 * const meta = await sessions.create({ url: "https://example.com/" });
 * await sessions.appendEvents(meta.id, { writerId: "w1", batch: 0, events, sentAt: Date.now() });
 */
export class Sessions {
  readonly store: StreamStore;
  readonly leaseMs: number;
  readonly fenceAfterMs: number;
  #now: () => number;
  /** Last write this process made per session; the stream tail is the truth. */
  #lastActivity = new Map<string, number>();
  /** The user streams this process has indexed each live session in (normalized ids), so it writes each once. */
  #indexedUsers = new Map<string, Set<string>>();
  #settling = new Map<string, Promise<SessionStatus>>();
  /** Running counts of live sessions, for the list (see running.ts). */
  #running: RunningTally;
  /** Live viewers here, and (once started) on every process sharing the store. */
  readonly watchers: Watchers;
  readonly #onDelete: ((id: string) => Promise<void>) | undefined;
  /** Friction thresholds, and the detector's carried state per live session written here (see friction.ts). */
  readonly friction: FrictionConfig;
  #frictionStates = new Map<string, FrictionState>();
  readonly #redaction: SessionsOptions["redaction"];
  /** Project per session (least recently used dropped first). */
  #projects = new Map<string, string | undefined>();

  constructor(options: SessionsOptions) {
    this.store = options.store;
    this.leaseMs = options.leaseMs ?? 45_000;
    this.fenceAfterMs = Math.max(this.leaseMs, options.fenceAfterMs ?? 360_000);
    this.#now = options.now ?? Date.now;
    this.#onDelete = options.onDelete;
    this.friction = options.friction ?? DEFAULT_FRICTION;
    this.#redaction = options.redaction;
    this.watchers = new Watchers(this.store, { now: this.#now });
    this.#running = new RunningTally(this.store, { now: this.#now });
  }

  /** Starts a session: its stream, the `active` fence and metadata, an index entry, and its user's entry. */
  async create(fields: Omit<SessionMeta, "id" | "createdAt">): Promise<SessionMeta> {
    const createdAt = this.#now();
    const meta: SessionMeta = { ...fields, id: newSessionId(createdAt), createdAt };
    const redactor = this.#redactorFor(meta.project);
    if (redactor) {
      // The user id is kept (it keys the user index); where the visitor was, and what the site said about them, not.
      meta.url = redactJson(meta.url, redactor);
      if (meta.referrer !== undefined) meta.referrer = redactJson(meta.referrer, redactor);
      if (meta.traits !== undefined) meta.traits = redactJson(structuredClone(meta.traits), redactor);
    }
    this.#rememberProject(meta.id, meta.project);
    const stream = streamOf(meta.id);
    await this.store.createStream(stream);
    const ack = await this.store.append(stream, [{ fence: ACTIVE, timestamp: createdAt }, metaRecord(meta)], {
      matchSeqNum: 0,
    });
    this.#touch(meta.id, createdAt);
    this.#running.started(meta.id, ack.end.seqNum);
    // The index stream (tailed by the live list) and the day stream (scanned by filters) get the same start summary.
    const summary = startSummary(meta);
    await this.store.append(INDEX_STREAM, [{
      body: new TextEncoder().encode(JSON.stringify(summary)),
      timestamp: createdAt,
    }]);
    await appendSummary(this.store, createdAt, summary, this.#now());
    if (meta.userId) await this.#indexUser(meta.id, meta.userId, summary);
    return meta;
  }

  /**
   * Appends one recorder batch, fenced on `active`. Client clocks more than
   * 2 s off are corrected using `sentAt`. Throws {@link SessionStoppedError}
   * when the session has ended or its lease lapsed. A batch that identifies
   * the user puts the session in that user's stream (once per user). Resolves
   * to the bytes it stored (record bodies).
   */
  async appendEvents(
    id: string,
    batch: { writerId: string; batch: number; events: RrwebEvent[]; sentAt?: number },
  ): Promise<{ storedBytes: number }> {
    const now = this.#now();
    await this.#checkLease(id, now);
    if (batch.events.length === 0) {
      await this.heartbeat(id);
      return { storedBytes: 0 };
    }
    // Redacted first: nothing below (friction, stats, the store) sees what was removed.
    const redactor = this.#redaction &&
      this.#redactorFor(this.#redaction.skipProjects?.size ? await this.projectOf(id) : undefined);
    let received = batch.events;
    if (redactor) {
      try {
        await redactEvents(received, redactor, this.#redaction?.pace);
      } catch (error) {
        if (!(error instanceof RedactionBudgetError)) throw error;
        log.warn("batch not stored: its redaction scan ran out of time", { session: id, events: received.length });
        received = [unscannedMarker(received)];
      }
    }
    const skew = batch.sentAt ? now - batch.sentAt : 0;
    const events = Math.abs(skew) > MAX_CLOCK_SKEW_MS
      ? received.map((e) => ({ ...e, timestamp: e.timestamp + skew }))
      : received;
    // Detected on a copy of the state: a failed append leaves it as it was, and the retry is judged again.
    const state = structuredClone(this.#frictionStates.get(id) ?? newFrictionState());
    const friction = countSignals(detectFriction(events, state, this.friction));
    const records = await encodeEvents({ writerId: batch.writerId, batch: batch.batch, events, friction });
    // A framed batch is one record per append (each is ~1 MiB); readers reassemble it.
    for (const record of records) this.#running.appended(id, await this.#appendFenced(id, [record]), record);
    this.#touch(id, now);
    this.#keepFriction(id, state);
    const userId = records[0]?.headers?.find(([name]) => name === "u")?.[1];
    if (userId !== undefined) await this.#identified(id, userId);
    return { storedBytes: records.reduce((n, r) => n + r.body.length, 0) };
  }

  /** Keeps the lease without events. */
  async heartbeat(id: string): Promise<void> {
    const now = this.#now();
    // A heartbeat moves the detector's clock (less the clock tolerance): a click followed by nothing is dead.
    // Those it decides are counted with the next batch, or at the end.
    const state = this.#frictionStates.get(id);
    this.#running.appended(id, await this.#appendFenced(id, [heartbeatRecord(now)]));
    this.#touch(id, now);
    if (state) advanceFriction(state, now - MAX_CLOCK_SKEW_MS, this.friction);
  }

  /**
   * Ends a session: the `stopped` fence and the stop record (with the final
   * counts) in one append, then the end summary for the list (its day stream
   * and the stream of every user id it was known by). Returns the summary,
   * or undefined when the session had already ended.
   */
  async stop(id: string, reason: StopInfo["reason"] = "stop"): Promise<EndSummary | undefined> {
    const stoppedAt = this.#now();
    this.#lastActivity.delete(id);
    this.#indexedUsers.delete(id);
    this.#running.forget(id);
    const state = this.#frictionStates.get(id);
    this.#frictionStates.delete(id);
    const { counts, userIds } = await this.#scan(id);
    // Abandoned forms are decided at the end, from the state this process carried.
    const last = state ? countSignals(finishFriction(state)) : {};
    if (Object.keys(last).length) counts.friction = addCounts(counts.friction ?? {}, last);
    const end: EndSummary = { k: "end", id, endedAt: stoppedAt, reason, ...counts };
    try {
      await this.store.append(streamOf(id), [
        { fence: STOPPED, timestamp: stoppedAt },
        stopRecord({ stoppedAt, reason, summary: end }),
      ], { fencingToken: ACTIVE });
    } catch (error) {
      if (error instanceof FencingMismatchError) return undefined;
      if (error instanceof NotFoundError) throw new SessionNotFoundError(id);
      throw error;
    }
    await appendSummary(this.store, createdAtOf(id), end, this.#now());
    for (const userId of userIds) await appendUserSummary(this.store, userId, end, this.#now());
    return end;
  }

  /** Deletes a session's stream and hides it from the list (its day stream and its users' streams). */
  async delete(id: string): Promise<void> {
    this.#lastActivity.delete(id);
    this.#indexedUsers.delete(id);
    this.#running.forget(id);
    const userIds = await this.#scan(id).then(({ userIds }) => userIds, (error) => {
      if (error instanceof SessionNotFoundError) return [];
      throw error;
    });
    await this.store.deleteStream(streamOf(id));
    await this.#onDelete?.(id);
    await appendSummary(this.store, createdAtOf(id), { k: "deleted", id }, this.#now());
    for (const userId of userIds) await appendUserSummary(this.store, userId, { k: "deleted", id }, this.#now());
  }

  /** A session's metadata and status, for its page; undefined when it does not exist. */
  async details(id: string): Promise<({ meta: SessionMeta } & SessionStatus) | undefined> {
    try {
      const { records } = await this.store.read(streamOf(id), { from: { seqNum: 0 }, count: 2 });
      const meta = records.find((r) => kindOf(r) === "meta");
      if (!meta) return undefined;
      return { meta: JSON.parse(new TextDecoder().decode(meta.body)), ...await this.settle(id) };
    } catch (error) {
      if (error instanceof NotFoundError || error instanceof SessionNotFoundError) return undefined;
      throw error;
    }
  }

  /** Whether a session is still recording (see {@link Sessions.settle}). */
  async isLive(id: string): Promise<boolean> {
    return (await this.settle(id)).live;
  }

  /**
   * A session's status. Quiet for longer than the lease, it is live but
   * `disconnected`; quiet for longer than {@link fenceAfterMs}, it is stopped
   * here, so readers see the truth without a background job; `end` is then
   * its summary.
   */
  settle(id: string): Promise<SessionStatus> {
    // Concurrent callers (a crowd of viewers arriving at once) share one check.
    let pending = this.#settling.get(id);
    if (!pending) {
      pending = this.#settle(id).finally(() => this.#settling.delete(id));
      this.#settling.set(id, pending);
    }
    return pending;
  }

  async #settle(id: string): Promise<SessionStatus> {
    const tail = await this.#tail(id);
    this.#running.sawTail(id, tail.seqNum);
    const { records } = await this.store.read(streamOf(id), { from: { tailOffset: 1 } });
    const stop = records.find((r) => kindOf(r) === "stop");
    if (stop) return { live: false, end: (JSON.parse(new TextDecoder().decode(stop.body)) as StopInfo).summary };
    const quietFor = this.#now() - Math.max(tail.timestamp, this.#lastActivity.get(id) ?? 0);
    if (quietFor <= this.fenceAfterMs) return { live: true, disconnected: quietFor > this.leaseMs };
    return { live: false, end: await this.stop(id, "lease_expired") };
  }

  /**
   * A live session's counts so far, for the list: from memory for sessions
   * this process writes, otherwise after at most one bounded read (see
   * running.ts; `partial` until caught up). Ended sessions have theirs in
   * their end summary.
   */
  async running(id: string): Promise<RunningCounts> {
    try {
      return await this.#running.counts(id);
    } catch (error) {
      if (error instanceof NotFoundError) throw new SessionNotFoundError(id);
      throw error;
    }
  }

  /**
   * Final counts of a session from its records' stats headers (bodies stay
   * compressed), and every user id it was known by (its metadata's, and each
   * identifying batch's), one per normalized id.
   */
  async #scan(id: string): Promise<{ counts: Omit<EndSummary, "k" | "id" | "endedAt" | "reason">; userIds: string[] }> {
    const counts = { events: 0, clicks: 0, pages: 0, errors: 0, lastEventAt: createdAtOf(id) } as Omit<
      EndSummary,
      "k" | "id" | "endedAt" | "reason"
    >;
    const users = new Map<string, string>();
    const addUser = (userId: unknown) => {
      if (typeof userId === "string" && normalizeUserId(userId) !== "") users.set(normalizeUserId(userId), userId);
    };
    const seen = new Set<string>();
    try {
      for await (const record of readAll(this.store, streamOf(id))) {
        if (kindOf(record) === "meta") {
          addUser((JSON.parse(new TextDecoder().decode(record.body)) as SessionMeta).userId);
        }
        const stats = batchStatsOf(record);
        const key = batchKeyOf(record);
        if (!stats || seen.has(key)) continue;
        seen.add(key);
        addStats(counts, stats);
        if (stats.g) addPageUrls(counts.urls ??= [], stats.g);
        addUser(stats.u);
      }
    } catch (error) {
      if (error instanceof NotFoundError) throw new SessionNotFoundError(id);
      throw error;
    }
    return { counts, userIds: [...users.values()] };
  }

  /** A batch identified the user: the session goes into that user's stream, unless this process already put it there. */
  async #identified(id: string, userId: string): Promise<void> {
    if (normalizeUserId(userId) === "" || this.#indexedUsers.get(id)?.has(normalizeUserId(userId))) return;
    const { records } = await this.store.read(streamOf(id), { from: { seqNum: 0 }, count: 2 });
    const meta = records.find((r) => kindOf(r) === "meta");
    if (!meta) return;
    const summary = startSummary(JSON.parse(new TextDecoder().decode(meta.body)) as SessionMeta);
    await this.#indexUser(id, userId, { ...summary, userId });
  }

  /** Appends a session's start summary to a user's stream and remembers it (for as many sessions as the lease cache). */
  async #indexUser(id: string, userId: string, summary: StartSummary): Promise<void> {
    await appendUserSummary(this.store, userId, summary, this.#now());
    const known = this.#indexedUsers.get(id) ?? new Set<string>();
    this.#indexedUsers.delete(id); // re-insert: Map order is least-recently-used first
    this.#indexedUsers.set(id, known.add(normalizeUserId(userId)));
    if (this.#indexedUsers.size > 100_000) this.#indexedUsers.delete(this.#indexedUsers.keys().next().value!);
  }

  /**
   * Reads a session back in order: reassembled, deduplicated. With `follow`,
   * keeps yielding live items until the stop record or the signal.
   */
  async *read(
    id: string,
    options: {
      follow?: boolean;
      from?: number;
      signal?: AbortSignal;
      onCaughtUp?: (tail: number) => void;
      /** Large batches in flight take their bytes from it (see SessionDecoder)… */
      budget?: ByteBudget;
      /** …their JSON too, unless the reader only sends `jsonPieces` on (default true). */
      inflates?: boolean;
    } = {},
  ): AsyncIterable<SessionItem> {
    const stream = streamOf(id);
    const decoder = new SessionDecoder({ budget: options.budget, inflates: options.inflates });
    const records = options.follow
      ? this.store.follow(stream, { from: options.from, signal: options.signal, onCaughtUp: options.onCaughtUp })
      : readAll(this.store, stream, options.from ?? 0);
    try {
      for await (const record of records) {
        for (const item of await decoder.push(record)) {
          yield item;
          if (item.kind === "stop") return;
        }
      }
    } catch (error) {
      if (error instanceof NotFoundError) throw new SessionNotFoundError(id);
      throw error;
    } finally {
      decoder.close();
    }
  }

  /**
   * The recording's first frame as static HTML (see first_frame.ts), from its
   * first records only: undefined when they hold no full snapshot.
   */
  async firstFrame(id: string, options: IntranetOptions = {}): Promise<FirstFrame | undefined> {
    const events: RrwebEvent[] = [];
    let items = 0;
    try {
      for await (const item of this.read(id)) {
        if (++items > FIRST_FRAME_ITEMS) break;
        if (item.kind !== "events") continue;
        events.push(...item.events);
        if (item.events.some((e) => e.type === 2)) break;
      }
    } catch (error) {
      if (error instanceof SessionNotFoundError) return undefined;
      throw error;
    }
    return firstFrameOf(events, options);
  }

  /** Counts a live viewer, so ingest (on any process) can tell the recorder to flush fast. */
  watch(id: string): () => void {
    return this.watchers.watch(id);
  }

  /** Whether someone, on any process, is watching this session live. */
  isWatched(id: string): boolean {
    return this.watchers.isWatched(id);
  }

  /** Sessions this process wrote to within their lease. */
  get activeCount(): number {
    const since = this.#now() - this.leaseMs;
    let n = 0;
    for (const at of this.#lastActivity.values()) if (at >= since) n++;
    return n;
  }

  /** Live viewers across all sessions. */
  get viewerCount(): number {
    return this.watchers.localCount;
  }

  async #appendFenced(id: string, records: Parameters<StreamStore["append"]>[1]): Promise<AppendAck> {
    try {
      return await this.store.append(streamOf(id), records, { fencingToken: ACTIVE });
    } catch (error) {
      if (error instanceof FencingMismatchError || error instanceof SeqMismatchError) {
        this.#lastActivity.delete(id);
        throw new SessionStoppedError(id);
      }
      throw error;
    }
  }

  /** Stops a session quiet for longer than the outage horizon, then refuses the write. */
  async #checkLease(id: string, now: number): Promise<void> {
    const cached = this.#lastActivity.get(id);
    if (cached !== undefined && now - cached <= this.fenceAfterMs) return;
    // Unknown here, or looks lapsed: the tail (another process may have written) decides.
    const tail = await this.#tail(id);
    const last = Math.max(tail.timestamp, cached ?? 0);
    if (now - last <= this.fenceAfterMs) return void this.#touch(id, last);
    await this.stop(id, "lease_expired");
    throw new SessionStoppedError(id);
  }

  async #tail(id: string) {
    try {
      return await this.store.checkTail(streamOf(id));
    } catch (error) {
      if (error instanceof NotFoundError) throw new SessionNotFoundError(id);
      throw error;
    }
  }

  #keepFriction(id: string, state: FrictionState): void {
    this.#frictionStates.delete(id); // re-insert: Map order is least-recently-used first
    this.#frictionStates.set(id, state);
    if (this.#frictionStates.size > MAX_FRICTION_STATES) {
      this.#frictionStates.delete(this.#frictionStates.keys().next().value!);
    }
  }

  #redactorFor(project: string | undefined): Redactor | undefined {
    const redaction = this.#redaction;
    return redaction && !(project !== undefined && redaction.skipProjects?.has(project))
      ? redaction.redactor
      : undefined;
  }

  /** A session's project (per-project budgets, redaction exemptions): from memory, else its meta record. */
  async projectOf(id: string): Promise<string | undefined> {
    if (this.#projects.has(id)) return this.#projects.get(id);
    const { records } = await this.store.read(streamOf(id), { from: { seqNum: 0 }, count: 2 });
    const meta = records.find((r) => kindOf(r) === "meta");
    const project = meta ? (JSON.parse(new TextDecoder().decode(meta.body)) as SessionMeta).project : undefined;
    this.#rememberProject(id, project);
    return project;
  }

  #rememberProject(id: string, project: string | undefined): void {
    this.#projects.delete(id); // re-insert: Map order is least-recently-used first
    this.#projects.set(id, project);
    if (this.#projects.size > 100_000) this.#projects.delete(this.#projects.keys().next().value!);
  }

  #touch(id: string, at: number): void {
    this.#lastActivity.delete(id); // re-insert: Map order is least-recently-used first
    this.#lastActivity.set(id, at);
    if (this.#lastActivity.size > 100_000) {
      this.#lastActivity.delete(this.#lastActivity.keys().next().value!);
    }
  }
}

/**
 * What is stored in place of a batch that could not be scanned for PII in
 * time: a gap marker saying how many events were lost and when, so the list
 * marks the session incomplete and the player shows the gap.
 */
function unscannedMarker(events: RrwebEvent[]): RrwebEvent {
  let from = Infinity;
  let to = 0;
  for (const event of events) {
    from = Math.min(from, event.timestamp);
    to = Math.max(to, event.timestamp);
  }
  const payload: GapPayload = { droppedEvents: events.length, droppedBytes: 0, from, to, reason: "unscanned" };
  return { type: 5, timestamp: from, data: { tag: "replaya.gap", payload } };
}
