/**
 * `deno task bench:live`: live viewers, measured through HTTP only, against
 * real server processes (`main.ts` as a child: its memory is its own, and the
 * bench client does not share its event loop), both backends in one run.
 *
 * 1. One live session receiving 20 batches/s (the recorded fixture's batches,
 *    cycled, each led by a custom event carrying its send time) with N raw SSE
 *    viewers (`BENCH_VIEWERS`); and 2,000 viewers over 200 sessions (10 each)
 *    at 1 batch/s per session. Delivered share, send→viewer p50/p99, the
 *    server's peak RSS and CPU, and how long the posts took.
 * 2. Ingest round trip p50/p99 with 0 viewers and with 2,000 viewers attached.
 * 3. A long ended session (`BENCH_LONG_MINUTES`): time until one viewer, and
 *    each of ten concurrent viewers, has the whole session over
 *    `/api/sessions/:id/live` (the endpoint the player uses for ended
 *    sessions too: `islands/player/stream.ts`).
 * 4. All of the above on s2-lite (in memory) as well.
 * 5. Two server processes on one s2-lite: ingest to A, 100 viewers on B; when
 *    (if ever) A's ingest responses say `watched: true`, and the latency.
 *
 * Viewers are raw TCP sockets (HTTP/1.1, chunked transfer decoding, SSE frames
 * parsed incrementally, only each frame's first KiB decoded) living in a
 * worker running this same file, so parsing thousands of streams does not
 * delay the posts' timers or their round-trip figures. Send times are
 * `performance.timeOrigin + performance.now()`, comparable across the two
 * threads. The viewers send no Fetch Metadata headers (the edge lets such
 * clients through) and `Host: 127.0.0.1:<port>` (an IP address: allowed);
 * without REPLAYA_ADMIN_TOKEN a loopback server needs no login.
 *
 * Environment (defaults in brackets): BENCH_VIEWERS [100,1000,5000],
 * BENCH_LITE_VIEWERS [BENCH_VIEWERS if set, else 100,1000: fewer on s2-lite to
 * keep the run near ten minutes; the 2,000-viewer rows run on both],
 * BENCH_SECONDS [20],
 * BENCH_RATE [20], BENCH_INGEST_VIEWERS [2000], BENCH_SPREAD_SESSIONS [200],
 * BENCH_SPREAD_VIEWERS [10 per session], BENCH_SPREAD_RATE [1],
 * BENCH_LONG_MINUTES [120], BENCH_LONG_VIEWERS [10], BENCH_PAIR_VIEWERS [100],
 * BENCH_BACKENDS [sqlite,s2-lite].
 *
 * @module
 */

import type { ChildServer } from "../tests/support/child_server.ts";
import type { LiteServer } from "../tests/support/s2_lite.ts";
import { type Fixture, fixtureFor } from "./fixture.ts";

const WORKER_NAME = "replaya-live-bench-viewers";
/** Bytes of each SSE frame kept for parsing: event name, id and the start of the data line (the marker). */
const HEAD_MAX = 1024;
const MARKER = /"tag":"bench","payload":\{"sentAt":([-0-9.e+]+),"n":(\d+)\}/;

/** Wall-clock milliseconds with sub-millisecond resolution, comparable between the main thread and the worker. */
const clock = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Rejects when `promise` has not settled within `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------------------------------------------------------
// Viewer side (runs in the worker)
// ---------------------------------------------------------------------------------------------------------------

interface Target {
  /** Index of the session in the scenario (the marker's `n` counts per session). */
  session: number;
  id: string;
}

type WorkerRequest =
  | { id: number; cmd: "open"; port: number; targets: Target[]; until: "live" | "stop"; timeoutMs: number }
  | { id: number; cmd: "drain"; expected: number; timeoutMs: number; idleMs: number }
  | { id: number; cmd: "close" };

interface OpenResult {
  opened: number;
  /** Viewers that reached `until` (caught up with `live`, or got the whole session up to `stop`). */
  ready: number;
  failed: number;
  firstError?: string;
  /** When the first viewer got its 200 (clock()). */
  firstConnectedAt?: number;
  /** Per ready viewer: ms from its connect until `until`. */
  readyMs: number[];
  /** Per ready viewer: bytes read and `events` frames received. */
  bytes: number[];
  frames: number[];
}

interface DrainResult {
  received: number;
  latencies: Float64Array;
  drainMs: number;
  failed: number;
  firstError?: string;
}

const STATE_SIZE = 0;
const STATE_DATA = 1;
const STATE_CRLF = 2;
const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder();

/** One raw SSE client: HTTP/1.1 response head, chunked body, SSE frames; only frame heads are decoded. */
class Viewer {
  readonly session: number;
  startedAt = 0;
  connectedAt = 0;
  readyAt = 0;
  bytes = 0;
  frames = 0;
  received = 0;
  error?: string;
  live = false;
  stopped = false;
  readonly settled: Promise<void>;
  #settle!: () => void;
  #until: "live" | "stop" = "live";
  #conn?: Deno.TcpConn;
  #closed = false;
  #inHead = true;
  #headText = "";
  #chunked = false;
  #state = STATE_SIZE;
  #chunkLeft = 0;
  #crlfLeft = 0;
  #sizeLine = "";
  #head = new Uint8Array(HEAD_MAX);
  #headLen = 0;
  #atLineStart = true;
  readonly #onMarker: (viewer: Viewer, sentAt: number) => void;

  constructor(session: number, onMarker: (viewer: Viewer, sentAt: number) => void) {
    this.session = session;
    this.#onMarker = onMarker;
    this.settled = new Promise((resolve) => (this.#settle = resolve));
  }

  /** Connects and sends the request; the response is read in the background. */
  async open(port: number, id: string, until: "live" | "stop"): Promise<void> {
    this.#until = until;
    this.startedAt = clock();
    const connecting = Deno.connect({ hostname: "127.0.0.1", port });
    try {
      this.#conn = await within(connecting, 10_000, "connect");
    } catch (error) {
      connecting.then((conn) => conn.close(), () => {});
      return this.#fail(error);
    }
    if (this.#closed) return this.close();
    const request = `GET /api/sessions/${id}/live HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
      `Accept: text/event-stream\r\nCache-Control: no-cache\r\nUser-Agent: replaya-live-bench\r\n\r\n`;
    try {
      await within(this.#conn.write(new TextEncoder().encode(request)), 10_000, "request write");
    } catch (error) {
      return this.#fail(error);
    }
    void this.#read();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn?.close();
    } catch { /* already closed */ }
    this.#settle();
  }

  async #read(): Promise<void> {
    const buffer = new Uint8Array(16 * 1024);
    try {
      while (!this.#closed) {
        const n = await this.#conn!.read(buffer);
        if (n === null) break;
        this.bytes += n;
        this.#consume(buffer.subarray(0, n));
      }
      if (!this.#closed && !this.stopped) this.#fail(new Error("stream ended before stop"));
    } catch (error) {
      if (!this.#closed) this.#fail(error);
    }
  }

  #fail(error: unknown): void {
    this.error ??= error instanceof Error ? error.message : String(error);
    this.close();
  }

  #consume(bytes: Uint8Array): void {
    if (this.#inHead) {
      const before = this.#headText.length;
      this.#headText += latin1.decode(bytes);
      const end = this.#headText.indexOf("\r\n\r\n");
      if (end < 0) {
        if (this.#headText.length > 64 * 1024) this.#fail(new Error("response head too long"));
        return;
      }
      const status = this.#headText.match(/^HTTP\/1\.[01] (\d{3})/)?.[1];
      if (status !== "200") {
        return this.#fail(new Error(`HTTP ${status ?? "?"}: ${this.#headText.slice(end + 4, end + 200)}`));
      }
      this.#chunked = /\r\ntransfer-encoding:[^\r]*chunked/i.test(this.#headText.slice(0, end));
      this.#inHead = false;
      this.#headText = "";
      this.connectedAt = clock();
      bytes = bytes.subarray(end + 4 - before);
    }
    if (!this.#chunked) return this.#sse(bytes);
    let i = 0;
    while (i < bytes.length && !this.#closed) {
      if (this.#state === STATE_DATA) {
        const take = Math.min(this.#chunkLeft, bytes.length - i);
        this.#sse(bytes.subarray(i, i + take));
        i += take;
        this.#chunkLeft -= take;
        if (this.#chunkLeft === 0) {
          this.#state = STATE_CRLF;
          this.#crlfLeft = 2;
        }
      } else if (this.#state === STATE_CRLF) {
        const skip = Math.min(this.#crlfLeft, bytes.length - i);
        i += skip;
        this.#crlfLeft -= skip;
        if (this.#crlfLeft === 0) this.#state = STATE_SIZE;
      } else {
        const lf = bytes.indexOf(10, i);
        this.#sizeLine += latin1.decode(bytes.subarray(i, lf < 0 ? bytes.length : lf));
        if (lf < 0) return;
        i = lf + 1;
        const size = parseInt(this.#sizeLine, 16);
        this.#sizeLine = "";
        if (size === 0) return this.#end();
        if (!Number.isFinite(size)) return this.#fail(new Error("bad chunk size"));
        this.#chunkLeft = size;
        this.#state = STATE_DATA;
      }
    }
  }

  /** Finds frame ends (an empty line) with native byte searches; copies at most HEAD_MAX bytes of each frame. */
  #sse(bytes: Uint8Array): void {
    let i = 0;
    while (i < bytes.length) {
      if (this.#atLineStart && bytes[i] === 10) {
        this.#frame();
        i++;
        continue;
      }
      const lf = bytes.indexOf(10, i);
      const end = lf < 0 ? bytes.length : lf + 1;
      if (this.#headLen < HEAD_MAX) {
        const take = Math.min(end - i, HEAD_MAX - this.#headLen);
        this.#head.set(bytes.subarray(i, i + take), this.#headLen);
        this.#headLen += take;
      }
      if (lf < 0) {
        this.#atLineStart = false;
        return;
      }
      this.#atLineStart = true;
      i = lf + 1;
    }
  }

  #frame(): void {
    const head = this.#head.subarray(0, this.#headLen);
    this.#headLen = 0;
    // "event: " is 7 bytes; the next byte tells events / live / meta / stop apart.
    if (head.length < 8 || head[0] !== 101) return; // comments (": open", ": ping")
    const kind = head[7];
    if (kind === 101) { // events
      this.frames++;
      const match = MARKER.exec(utf8.decode(head));
      if (match) {
        this.received++;
        this.#onMarker(this, Number(match[1]));
      }
    } else if (kind === 108) { // live
      this.live = true;
      if (this.#until === "live") this.#ready();
    } else if (kind === 115) { // stop
      this.stopped = true;
      if (this.#until === "stop") this.#ready();
    }
  }

  #ready(): void {
    if (this.readyAt) return;
    this.readyAt = clock();
    if (this.#until === "stop") this.close();
    else this.#settle();
  }

  #end(): void {
    if (!this.stopped) this.#fail(new Error("stream ended before stop"));
    else this.close();
  }
}

/** The worker: opens viewers, counts markers, reports. */
function viewerWorker(): void {
  const scope = globalThis as unknown as {
    onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
    postMessage(message: unknown, transfer?: Transferable[]): void;
  };
  let viewers: Viewer[] = [];
  let latencies: number[] = [];
  let received = 0;
  const onMarker = (_viewer: Viewer, sentAt: number) => {
    received++;
    latencies.push(clock() - sentAt);
  };

  async function open(request: Extract<WorkerRequest, { cmd: "open" }>): Promise<OpenResult> {
    const batch = request.targets.map((t) => new Viewer(t.session, onMarker));
    viewers.push(...batch);
    const deadline = Date.now() + request.timeoutMs;
    let next = 0;
    // At most 200 connects (and request writes) in flight.
    await Promise.all(Array.from({ length: Math.min(200, batch.length) }, async () => {
      while (next < batch.length && Date.now() < deadline) {
        const i = next++;
        await batch[i].open(request.port, request.targets[i].id, request.until);
      }
    }));
    const left = Math.max(1, deadline - Date.now());
    await within(Promise.all(batch.map((v) => v.settled)), left, "viewers").catch(() => {});
    const ready = batch.filter((v) => v.readyAt > 0);
    const connected = batch.map((v) => v.connectedAt).filter((t) => t > 0);
    return {
      opened: batch.length,
      ready: ready.length,
      failed: batch.filter((v) => v.error !== undefined).length,
      firstError: batch.find((v) => v.error !== undefined)?.error,
      firstConnectedAt: connected.length ? Math.min(...connected) : undefined,
      readyMs: ready.map((v) => v.readyAt - v.startedAt),
      bytes: ready.map((v) => v.bytes),
      frames: ready.map((v) => v.frames),
    };
  }

  async function drain(request: Extract<WorkerRequest, { cmd: "drain" }>): Promise<DrainResult> {
    const started = Date.now();
    let seen = received;
    let changed = Date.now();
    while (received < request.expected && Date.now() - started < request.timeoutMs) {
      await sleep(25);
      if (received !== seen) {
        seen = received;
        changed = Date.now();
      } else if (Date.now() - changed > request.idleMs) break;
    }
    const result: DrainResult = {
      received,
      latencies: Float64Array.from(latencies),
      drainMs: Date.now() - started,
      failed: viewers.filter((v) => v.error !== undefined).length,
      firstError: viewers.find((v) => v.error !== undefined)?.error,
    };
    closeAll();
    return result;
  }

  function closeAll() {
    for (const v of viewers) v.close();
    viewers = [];
    latencies = [];
    received = 0;
  }

  scope.onmessage = async ({ data: request }) => {
    try {
      if (request.cmd === "open") scope.postMessage({ id: request.id, result: await open(request) });
      else if (request.cmd === "drain") {
        const result = await drain(request);
        scope.postMessage({ id: request.id, result }, [result.latencies.buffer]);
      } else {
        closeAll();
        scope.postMessage({ id: request.id, result: null });
      }
    } catch (error) {
      scope.postMessage({ id: request.id, error: error instanceof Error ? error.message : String(error) });
    }
  };
}

/** The main thread's handle on the viewer worker. */
class ViewerPool {
  #worker = new Worker(import.meta.url, { type: "module", name: WORKER_NAME });
  #pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  #next = 1;

  constructor() {
    this.#worker.onmessage = ({ data }: MessageEvent<{ id: number; result?: unknown; error?: string }>) => {
      const pending = this.#pending.get(data.id);
      this.#pending.delete(data.id);
      if (data.error !== undefined) pending?.reject(new Error(data.error));
      else pending?.resolve(data.result);
    };
    this.#worker.onerror = (event) => {
      event.preventDefault();
      for (const pending of this.#pending.values()) pending.reject(new Error(`viewer worker: ${event.message}`));
      this.#pending.clear();
    };
  }

  #call<T>(request: Record<string, unknown>, timeoutMs: number): Promise<T> {
    const id = this.#next++;
    const answer = new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
    });
    this.#worker.postMessage({ ...request, id });
    return within(answer, timeoutMs, `viewer worker ${request.cmd}`).finally(() => this.#pending.delete(id));
  }

  open(port: number, targets: Target[], until: "live" | "stop", timeoutMs: number): Promise<OpenResult> {
    return this.#call({ cmd: "open", port, targets, until, timeoutMs }, timeoutMs + 15_000);
  }

  drain(expected: number, timeoutMs: number, idleMs = 5_000): Promise<DrainResult> {
    return this.#call({ cmd: "drain", expected, timeoutMs, idleMs }, timeoutMs + 30_000);
  }

  close(): Promise<void> {
    return this.#call({ cmd: "close" }, 10_000);
  }

  terminate(): void {
    this.#worker.terminate();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Main thread: servers, posts, tables
// ---------------------------------------------------------------------------------------------------------------

const KEY = "pk_bench_0123456789";
const list = (name: string, fallback: string) =>
  (Deno.env.get(name) ?? fallback).split(",").map((s) => s.trim()).filter(Boolean);
const int = (name: string, fallback: number) => {
  const value = Number(Deno.env.get(name) ?? fallback);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number`);
  return value;
};

interface Session {
  sessionId: string;
  token: string;
}

/** Synchronous last-resort cleanups (kill children, remove their dirs), for signals and unexpected exits. */
const emergency = new Set<() => void>();
function runEmergency(): void {
  for (const cleanup of emergency) {
    try {
      cleanup();
    } catch { /* best effort */ }
  }
  emergency.clear();
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(0);
}

function ms(value: number): string {
  return Number.isFinite(value) ? value.toFixed(1) : "–";
}

function loadavg(): string {
  return Deno.loadavg().map((n) => n.toFixed(2)).join(" ");
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat (clock ticks of 1/100 s). */
function cpuSeconds(pid: number | "self"): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** Peak resident memory of a process so far (bytes), from VmHWM in /proc/<pid>/status. */
function peakRss(pid: number): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    return Number(status.match(/VmHWM:\s+(\d+) kB/)?.[1] ?? Number.NaN) * 1024;
  } catch {
    return Number.NaN;
  }
}

/** The soft limit on open files, from /proc/self/limits (Infinity when unlimited or unknown). */
function openFileLimit(): number {
  try {
    const line = Deno.readTextFileSync("/proc/self/limits").split("\n").find((l) => l.startsWith("Max open files"));
    const soft = line?.split(/\s{2,}/)[1];
    return soft && /^\d+$/.test(soft) ? Number(soft) : Infinity;
  } catch {
    return Infinity;
  }
}

async function main(): Promise<void> {
  const { spawnServer } = await import("../tests/support/child_server.ts");
  const { liteAvailable, printSkipNotice, startLite } = await import("../tests/support/s2_lite.ts");
  const { percentile, table } = await import("./report.ts");
  const { BENCH_ENV } = await import("./server.ts");

  const SECONDS = int("BENCH_SECONDS", 20);
  const RATE = int("BENCH_RATE", 20);
  const INGEST_VIEWERS = int("BENCH_INGEST_VIEWERS", 2000);
  const SPREAD_SESSIONS = int("BENCH_SPREAD_SESSIONS", 200);
  const SPREAD_VIEWERS = int("BENCH_SPREAD_VIEWERS", 10);
  const SPREAD_RATE = int("BENCH_SPREAD_RATE", 1);
  const LONG_MINUTES = int("BENCH_LONG_MINUTES", 120);
  const LONG_VIEWERS = int("BENCH_LONG_VIEWERS", 10);
  const PAIR_VIEWERS = int("BENCH_PAIR_VIEWERS", 100);
  const BACKENDS = list("BENCH_BACKENDS", "sqlite,s2-lite");
  const counts = (name: string, fallback: string) =>
    list(name, fallback).map((value) => {
      if (!/^\d+$/.test(value)) throw new Error(`${name}: "${value}" is not a number of viewers`);
      return Number(value);
    });
  const sqliteViewers = counts("BENCH_VIEWERS", "100,1000,5000");
  // s2-lite's row of 5,000 adds a minute and more to a run that should stay near ten minutes; ask for it by env.
  const liteViewers = counts("BENCH_LITE_VIEWERS", Deno.env.get("BENCH_VIEWERS") ?? "100,1000");

  // Each viewer is one socket here and one in the server (same limit, inherited); keep room for the rest.
  const fdLimit = openFileLimit();
  const maxViewers = Number.isFinite(fdLimit) ? Math.max(0, fdLimit - 512) : Infinity;
  const notes: string[] = [];
  const cap = (n: number) => {
    if (n <= maxViewers) return n;
    notes.push(
      `${n} viewers capped to ${maxViewers}: the open-file soft limit is ${fdLimit} (raise it with ulimit -n)`,
    );
    return maxViewers;
  };

  const fixture = JSON.parse(
    await Deno.readTextFile(new URL("../tests/fixtures/recorded_session.json", import.meta.url)),
  ) as Fixture;
  /** Fixture batch k (cycled), its events moved to start at `now`. */
  const batchAt = (k: number, now: number) => {
    const events = fixture.batches[k % fixture.batches.length].events;
    const first = events[0].timestamp;
    return events.map((e) => ({ ...e, timestamp: now + (e.timestamp - first) }));
  };

  const benchStarted = performance.now();
  const loadAtStart = loadavg();
  console.log(`Load average at start: ${loadAtStart} (${navigator.hardwareConcurrency} cores)`);
  console.log(`Open-file soft limit: ${Number.isFinite(fdLimit) ? fdLimit : "unlimited"}`);

  // ---- servers -------------------------------------------------------------------------------------------

  const baseEnv = {
    ...BENCH_ENV,
    REPLAYA_PROJECT_KEYS: `bench=${KEY}`,
    REPLAYA_MAX_CONCURRENT_PER_CLIENT: "1000000",
  };

  async function startServer(env: Record<string, string>): Promise<ChildServer> {
    const spawned = spawnServer({ ...baseEnv, ...env });
    const kill = () => {
      try {
        spawned.child.kill("SIGKILL");
      } catch { /* gone */ }
      try {
        Deno.removeSync(spawned.dataDir, { recursive: true });
      } catch { /* gone */ }
    };
    emergency.add(kill);
    try {
      const server = await within(spawned.started(), 60_000, "server start");
      return {
        ...server,
        async close() {
          await within(server.close(), 15_000, "server close").catch(kill);
          emergency.delete(kill);
        },
      };
    } catch (error) {
      kill();
      emergency.delete(kill);
      await within(spawned.status, 10_000, "server exit").catch(() => {});
      throw error;
    }
  }

  const jsonHeaders = { "content-type": "application/json" };

  /** Starts a session (as the recorder does); `send` and `stop` follow the dashboard bench's helpers. */
  async function start(url: string): Promise<Session> {
    const res = await fetch(`${url}/api/sessions`, {
      method: "POST",
      headers: jsonHeaders,
      body: JSON.stringify({ projectKey: KEY, meta: { url: "https://shop.example/", userAgent: "bench" } }),
      signal: AbortSignal.timeout(15_000),
    });
    if (!res.ok) throw new Error(`session start: HTTP ${res.status} ${await res.text()}`);
    return await res.json() as Session;
  }

  async function send(url: string, s: Session, seq: number, events: unknown[], writerId = "bench") {
    const res = await fetch(`${url}/api/sessions/${s.sessionId}/events`, {
      method: "POST",
      headers: { ...jsonHeaders, authorization: `Bearer ${s.token}` },
      body: JSON.stringify({ writerId, seq, sentAt: Date.now(), events }),
      signal: AbortSignal.timeout(15_000),
    });
    const body = await res.json().catch(() => ({})) as { watched?: boolean; token?: string };
    if (body.token) s.token = body.token;
    return { ok: res.ok, status: res.status, watched: body.watched === true };
  }

  async function stop(url: string, s: Session): Promise<void> {
    const res = await fetch(`${url}/api/sessions/${s.sessionId}/stop`, {
      method: "POST",
      headers: { authorization: `Bearer ${s.token}` },
      signal: AbortSignal.timeout(15_000),
    });
    await res.body?.cancel();
    if (!res.ok) throw new Error(`session stop: HTTP ${res.status}`);
  }

  const port = (url: string) => Number(new URL(url).port);
  const pool = new ViewerPool();
  emergency.add(() => pool.terminate());

  // ---- 1 and 2: live scenarios ---------------------------------------------------------------------------

  interface LiveSpec {
    label: string;
    sessions: number;
    viewersPerSession: number;
    rate: number;
    seconds: number;
    /** Also post small probe batches while the viewers connect, to time when ingest first says `watched`. */
    probe?: boolean;
  }

  interface LiveResult {
    spec: LiveSpec;
    viewers: number;
    ready: number;
    delivered: number;
    latencies: number[];
    ingest: number[];
    failedPosts: number;
    postsSecs: number;
    rssPeak: number;
    serverCpu: number;
    benchCpu: number;
    firstError?: string;
    watched: Array<{ at: number; watched: boolean }>;
    /** With `probe`: ms from the first viewer's 200 until an ingest response said watched (undefined: never). */
    watchedAfterMs?: number;
  }

  /**
   * Posts a one-event batch (its own writerId, so it never collides with the measured batches) every
   * 1000/RATE ms until a response sent after the first viewer connected says `watched: true`, or 15 s after
   * that viewer connected; ms from that connection to the response, or undefined.
   */
  async function probeWatched(url: string, s: Session, opening: Promise<OpenResult>): Promise<number | undefined> {
    let opened: OpenResult | undefined;
    let settled = false;
    opening.then((r) => (opened = r), () => {}).finally(() => (settled = true));
    const answers: Array<{ sent: number; at: number; watched: boolean }> = [];
    const started = Date.now();
    for (let seq = 0; Date.now() - started < 180_000; seq++) {
      if (settled) {
        const since = opened?.firstConnectedAt;
        if (since === undefined) return undefined;
        const hit = answers.find((a) => a.watched && a.sent >= since);
        if (hit) return hit.at - since;
        if (clock() - since > 15_000) return undefined;
      }
      const sent = clock();
      const probe = { type: 5, timestamp: Date.now(), data: { tag: "bench-probe", payload: { seq } } };
      const r = await send(url, s, seq, [probe], "probe").catch(() => undefined);
      if (r) answers.push({ sent, at: clock(), watched: r.watched });
      await sleep(1000 / RATE);
    }
    return undefined;
  }

  /**
   * Starts the sessions on `ingestUrl`, attaches the viewers on `viewUrl` and waits until they caught up, then
   * posts `rate` batches/s per session for `seconds` (each session's posts in sequence, as a recorder sends),
   * waits for the viewers to drain, and closes them.
   */
  async function liveRun(spec: LiveSpec, ingestUrl: string, viewUrl: string, pids: number[]): Promise<LiveResult> {
    const sessions: Session[] = [];
    for (let i = 0; i < spec.sessions; i += 50) {
      sessions.push(
        ...await Promise.all(Array.from({ length: Math.min(50, spec.sessions - i) }, () => start(ingestUrl))),
      );
    }
    // A first batch, as a page load sends, so each stream has something to replay before it goes live.
    await Promise.all(sessions.map(async (s) => {
      const r = await send(ingestUrl, s, 0, batchAt(0, Date.now()));
      if (!r.ok) throw new Error(`first batch: HTTP ${r.status}`);
    }));
    const viewers = spec.sessions * spec.viewersPerSession;
    const targets: Target[] = [];
    for (let v = 0; v < spec.viewersPerSession; v++) {
      sessions.forEach((s, i) => targets.push({ session: i, id: s.sessionId }));
    }
    let opened: OpenResult | undefined;
    let watchedAfterMs: number | undefined;
    try {
      if (viewers > 0) {
        const opening = pool.open(port(viewUrl), targets, "live", 60_000 + viewers * 20);
        const probing = spec.probe ? probeWatched(ingestUrl, sessions[0], opening) : undefined;
        opened = await opening;
        watchedAfterMs = await probing;
        if (opened.ready < viewers) {
          console.error(
            `  ${opened.ready}/${viewers} viewers caught up (${opened.failed} failed: ${opened.firstError})`,
          );
        }
      }
      const cpu0 = pids.map((pid) => cpuSeconds(pid));
      const bench0 = cpuSeconds("self");
      const ingest: number[] = [];
      const watched: Array<{ at: number; watched: boolean }> = [];
      const okPerSession = new Array(spec.sessions).fill(0);
      let failedPosts = 0;
      const count = Math.round(spec.seconds * spec.rate);
      const interval = 1000 / spec.rate;
      const t0 = performance.now() + 50;
      await within(
        Promise.all(sessions.map(async (s, i) => {
          const phase = (i / spec.sessions) * interval;
          for (let n = 1; n <= count; n++) {
            const wait = t0 + phase + (n - 1) * interval - performance.now();
            if (wait > 0) await sleep(wait);
            const sentAt = clock();
            const marker = { type: 5, timestamp: Date.now(), data: { tag: "bench", payload: { sentAt, n } } };
            const events = [marker, ...batchAt(n, Date.now())];
            const started = performance.now();
            try {
              const r = await send(ingestUrl, s, n, events);
              ingest.push(performance.now() - started);
              watched.push({ at: clock(), watched: r.watched });
              if (r.ok) okPerSession[i]++;
              else failedPosts++;
            } catch {
              failedPosts++;
            }
          }
        })),
        spec.seconds * 1000 * 4 + 60_000,
        "posts",
      );
      const postsSecs = (performance.now() - t0) / 1000;
      const expected = okPerSession.reduce((sum, ok) => sum + ok * spec.viewersPerSession, 0);
      const drained = viewers > 0 ? await pool.drain(expected, 30_000) : undefined;
      const wall = (performance.now() - t0) / 1000;
      const serverCpu = pids.reduce((sum, pid, i) => sum + cpuSeconds(pid) - cpu0[i], 0) / wall;
      const benchCpu = (cpuSeconds("self") - bench0) / wall;
      const rssPeak = Math.max(...pids.map(peakRss));
      const nominal = spec.sessions * count * spec.viewersPerSession;
      return {
        spec,
        viewers,
        ready: opened?.ready ?? 0,
        delivered: drained ? drained.received / Math.max(1, nominal) : Number.NaN,
        latencies: drained ? Array.from(drained.latencies) : [],
        ingest,
        failedPosts,
        postsSecs,
        rssPeak,
        serverCpu,
        benchCpu,
        firstError: drained?.firstError ?? opened?.firstError,
        watched,
        watchedAfterMs,
      };
    } finally {
      await pool.close().catch(() => {});
    }
  }

  /** The server's own words when something failed: its first distinct error lines, kept for the report. */
  const errorNotes: string[] = [];
  function serverErrors(backend: string, ...servers: ChildServer[]) {
    const lines = servers.flatMap((server) => server.output().split("\n"))
      .filter((line) => /error|fail|exception/i.test(line))
      .map((line) => line.trim().slice(0, 240));
    const distinct = [...new Set(lines)].slice(0, 3);
    for (const line of distinct) console.error(`  server: ${line}`);
    if (distinct.length) errorNotes.push(`${backend}: ${distinct[0]} (${lines.length} error lines)`);
  }

  const liveRows: string[][] = [];
  const ingestRows: string[][] = [];
  const longRows: string[][] = [];
  let pairRow: string[] | undefined;

  function liveRow(backend: string, r: LiveResult): string[] {
    return [
      backend,
      r.spec.label,
      String(r.viewers),
      r.viewers ? (r.ready === r.viewers ? "all" : `${r.ready}`) : "–",
      r.viewers ? `${(100 * r.delivered).toFixed(1)}%` : "–",
      ms(percentile(r.latencies, 50)),
      ms(percentile(r.latencies, 99)),
      ms(percentile(r.ingest, 50)),
      ms(percentile(r.ingest, 99)),
      r.failedPosts ? String(r.failedPosts) : "0",
      mib(r.rssPeak),
      `${(100 * r.serverCpu).toFixed(0)}%`,
      `${(100 * r.benchCpu).toFixed(0)}%`,
      r.postsSecs.toFixed(1),
    ];
  }

  async function liveScenarios(backend: string, env: () => Record<string, string>, viewerCounts: number[]) {
    const single = (n: number): LiveSpec => ({
      label: `1 session × ${RATE}/s`,
      sessions: 1,
      viewersPerSession: n,
      rate: RATE,
      seconds: SECONDS,
    });
    const spread = (perSession: number): LiveSpec => ({
      label: `${SPREAD_SESSIONS} sessions × ${SPREAD_RATE}/s`,
      sessions: SPREAD_SESSIONS,
      viewersPerSession: perSession,
      rate: SPREAD_RATE,
      seconds: SECONDS,
    });
    const counts = [...new Set([0, ...viewerCounts, INGEST_VIEWERS].map(cap))].sort((a, b) => a - b);
    const specs = [...counts.map(single)];
    if (SPREAD_SESSIONS > 0) {
      specs.push(spread(0), spread(Math.floor(cap(SPREAD_SESSIONS * SPREAD_VIEWERS) / SPREAD_SESSIONS)));
    }
    for (const spec of specs) {
      const viewers = spec.sessions * spec.viewersPerSession;
      console.error(`[${backend}] ${spec.label}, ${viewers} viewers, ${spec.seconds} s (load ${loadavg()})…`);
      const server = await startServer(env());
      try {
        const r = await liveRun(spec, server.url, server.url, [server.pid]);
        if (r.firstError || r.failedPosts) {
          console.error(`  first viewer error: ${r.firstError ?? "none"}; failed posts: ${r.failedPosts}`);
          serverErrors(backend, server);
        }
        liveRows.push(liveRow(backend, r));
        if (viewers === 0 || viewers === cap(INGEST_VIEWERS) || spec.sessions > 1) {
          ingestRows.push([
            backend,
            spec.label,
            spec.sessions > 1 && viewers > 0 ? `${viewers} (${spec.viewersPerSession} each)` : String(viewers),
            ms(percentile(r.ingest, 50)),
            ms(percentile(r.ingest, 99)),
            String(r.failedPosts),
          ]);
        }
      } finally {
        await server.close();
      }
    }
  }

  // ---- 3: long ended session ------------------------------------------------------------------------------

  /** Posts the fixture again and again, shifted in time, until it covers `minutes`; then stops the session. */
  async function longSession(url: string, minutes: number) {
    const s = await start(url);
    let seq = 0;
    let events = 0;
    for (const shifted of fixtureFor(fixture, minutes)) {
      const r = await send(url, s, seq++, shifted);
      if (!r.ok) throw new Error(`long session batch ${seq}: HTTP ${r.status}`);
      events += shifted.length;
    }
    await stop(url, s);
    return { id: s.sessionId, batches: seq, events };
  }

  async function longScenario(backend: string, env: () => Record<string, string>) {
    if (LONG_MINUTES <= 0) return;
    const server = await startServer(env());
    try {
      console.error(`[${backend}] building a ${LONG_MINUTES}-minute session (load ${loadavg()})…`);
      const built = performance.now();
      const session = await longSession(server.url, LONG_MINUTES);
      console.error(`  ${session.batches} batches in ${((performance.now() - built) / 1000).toFixed(0)} s`);
      for (const count of [1, LONG_VIEWERS]) {
        const cpu0 = cpuSeconds(server.pid);
        const t0 = performance.now();
        const targets = Array.from({ length: count }, () => ({ session: 0, id: session.id }));
        const r = await pool.open(port(server.url), targets, "stop", 600_000);
        await pool.close();
        const wall = (performance.now() - t0) / 1000;
        const complete = r.frames.filter((f) => f === session.batches).length;
        longRows.push([
          backend,
          `${LONG_MINUTES} min: ${session.batches} batches, ${session.events} events`,
          String(count),
          `${complete}/${count}`,
          ms(percentile(r.readyMs, 50)),
          ms(Math.max(...r.readyMs)),
          (r.bytes.reduce((a, b) => a + b, 0) / count / 1024 / 1024).toFixed(1),
          (cpuSeconds(server.pid) - cpu0).toFixed(2),
          wall.toFixed(1),
        ]);
        if (r.ready < count) {
          console.error(`  ${count - r.ready} viewers did not finish: ${r.firstError}`);
          serverErrors(backend, server);
        }
      }
    } finally {
      await server.close();
    }
  }

  // ---- 5: two processes on one s2-lite --------------------------------------------------------------------

  async function pairScenario(lite: LiteServer) {
    const env = liteEnv(lite, `replaya-bench-pair-${crypto.randomUUID().slice(0, 8)}`);
    console.error(`[s2-lite] two processes: ingest on A, ${PAIR_VIEWERS} viewers on B (load ${loadavg()})…`);
    const a = await startServer(env);
    try {
      const b = await startServer(env);
      try {
        const spec = {
          label: "A ingest, B viewers",
          sessions: 1,
          viewersPerSession: PAIR_VIEWERS,
          rate: RATE,
          seconds: SECONDS,
          probe: true,
        };
        const r = await liveRun(spec, a.url, b.url, [a.pid, b.pid]);
        if (r.firstError || r.failedPosts) serverErrors("s2-lite pair", a, b);
        pairRow = [
          String(r.viewers),
          r.ready === r.viewers ? "all" : String(r.ready),
          `${(100 * r.delivered).toFixed(1)}%`,
          ms(percentile(r.latencies, 50)),
          ms(percentile(r.latencies, 99)),
          ms(percentile(r.ingest, 50)),
          ms(percentile(r.ingest, 99)),
          r.watchedAfterMs === undefined ? "never" : `after ${r.watchedAfterMs.toFixed(0)} ms`,
          `${r.watched.filter((w) => w.watched).length}/${r.watched.length}`,
        ];
      } finally {
        await b.close();
      }
    } finally {
      await a.close();
    }
  }

  function liteEnv(lite: LiteServer, basin: string): Record<string, string> {
    return { S2_ACCOUNT_ENDPOINT: lite.url, S2_BASIN_ENDPOINT: lite.url, S2_ACCESS_TOKEN: "bench", S2_BASIN: basin };
  }

  // ---- run ----------------------------------------------------------------------------------------------

  let lite: LiteServer | undefined;
  try {
    if (BACKENDS.includes("sqlite")) {
      await liveScenarios("sqlite", () => ({}), sqliteViewers.map(cap));
      await longScenario("sqlite", () => ({}));
    }
    if (BACKENDS.includes("s2-lite")) {
      if (liteAvailable()) {
        lite = await startLite();
        const running = lite;
        emergency.add(() => running.kill());
        let basins = 0;
        const env = () => liteEnv(running, `replaya-bench-${Date.now().toString(36)}-${basins++}`);
        await liveScenarios("s2-lite", env, liteViewers.map(cap));
        await longScenario("s2-lite", env);
        if (PAIR_VIEWERS > 0) await pairScenario(running);
      } else {
        printSkipNotice();
      }
    }
  } finally {
    if (lite) await within(lite.stop(), 10_000, "s2-lite stop").catch(() => lite?.kill());
    pool.terminate();
    runEmergency();
  }

  // ---- report ---------------------------------------------------------------------------------------------

  console.log(
    `\n1. Live tail: raw SSE viewers on /api/sessions/:id/live; fixture batches (cycled), each led by a timestamped` +
      ` marker event; ${SECONDS} s of posts per row, a fresh server process per row`,
  );
  if (SPREAD_SESSIONS > 0) {
    console.log(
      `   The spread rows: ${SPREAD_SESSIONS} live sessions at ${SPREAD_RATE} batch/s each (${SPREAD_VIEWERS} viewers` +
        ` per session), not ${RATE}/s each: ${SPREAD_SESSIONS} × ${RATE} posts/s, read back by every viewer, is more` +
        ` than this one machine can produce and consume.`,
    );
  }
  console.log("");
  console.log(table([
    "backend",
    "scenario",
    "viewers",
    "caught up",
    "delivered",
    "send→viewer p50 ms",
    "p99 ms",
    "ingest p50 ms",
    "p99 ms",
    "failed posts",
    "server RSS max MiB",
    "server CPU",
    "bench CPU",
    "posts took s",
  ], liveRows));
  console.log(
    `\n   delivered = marker batches received by all viewers / (batches posted × viewers); caught up = viewers that` +
      ` got \`live\` before the posts began; CPU = share of one core over the posts and the drain; posts took =` +
      ` first post to last response (nominal ${SECONDS} s)`,
  );
  console.log(`\n2. Ingest round trip (POST /api/sessions/:id/events, plain JSON) with and without viewers\n`);
  console.log(table(["backend", "scenario", "viewers", "p50 ms", "p99 ms", "failed"], ingestRows));
  if (longRows.length) {
    console.log(
      `\n3. A long ended session over /api/sessions/:id/live (what the player reads): until \`stop\` arrives\n`,
    );
    console.log(table([
      "backend",
      "session",
      "viewers",
      "complete",
      "p50 ms",
      "slowest ms",
      "MiB per viewer",
      "server CPU s",
      "wall s",
    ], longRows));
  }
  if (pairRow) {
    console.log(
      `\n5. Two server processes on one s2-lite (same basin, secret and keys): posts to A (${RATE}/s, ${SECONDS} s),` +
        ` viewers on B. While B's viewers connect, a one-event probe batch goes to A every ${1000 / RATE} ms;` +
        ` "A says watched" is the time from B's first viewer getting its 200 to the first probe answer (sent after` +
        ` it) with \`watched: true\`, or "never" (15 s)\n`,
    );
    console.log(table([
      "viewers on B",
      "caught up",
      "delivered",
      "send→viewer p50 ms",
      "p99 ms",
      "ingest p50 ms",
      "p99 ms",
      "A says watched (from B's first viewer)",
      "watched responses during the posts",
    ], [pairRow]));
  }
  for (const note of [...new Set(notes)]) console.log(`\nNote: ${note}`);
  for (const note of errorNotes) console.log(`\nServer error output (first line) — ${note}`);
  console.log(`\nBench took ${((performance.now() - benchStarted) / 1000).toFixed(0)} s`);
  console.log(`\nLoad average at start: ${loadAtStart}; at end: ${loadavg()}`);
}

if ((globalThis as { name?: string }).name === WORKER_NAME) {
  viewerWorker();
} else {
  const onSignal = () => {
    runEmergency();
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  globalThis.addEventListener("unload", runEmergency);
  let code = 0;
  try {
    await main();
  } catch (error) {
    console.error(error);
    code = 1;
  } finally {
    runEmergency();
  }
  Deno.exit(code);
}
