/**
 * Gzip via the platform's CompressionStream: rrweb JSON shrinks ~5-10x. In a
 * page, compression (and the UTF-8 encoding before it) runs in a Worker made
 * from a Blob URL, off the main thread; where Workers or Blob URLs are not
 * allowed (a strict CSP, an old browser) or the worker fails, on the main
 * thread instead, never failing the upload because of the worker.
 * @module
 */

/** Whether `gzip` can run here. */
export function canGzip(): boolean {
  return typeof CompressionStream === "function" &&
    typeof Blob === "function" && typeof Response === "function";
}

/** Gzips `data` (text as UTF-8). Rejects where CompressionStream is unavailable. */
export async function gzip(data: string | Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([data]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** The worker's whole program: the same gzip, answering `{id, text}` with `{id, bytes}` or `{id}`. */
export const WORKER_SOURCE =
  `onmessage=function(e){var d=e.data;new Response(new Blob([d.text]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer().then(function(b){postMessage({id:d.id,bytes:b},[b])},function(){postMessage({id:d.id})})}`;

/** A worker job not answered within this long is done on the main thread, and the worker abandoned. */
export const WORKER_TIMEOUT_MS = 10_000;

/** The slice of `Worker` used (injected for tests). */
export interface WorkerLike {
  postMessage(message: { id: number; text: string }): void;
  onmessage: ((event: { data: { id: number; bytes?: ArrayBuffer } }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  terminate(): void;
}

/** What `offThreadGzip` needs from the platform. */
export interface GzipHost {
  /** Creates the worker; may throw (CSP) or return undefined (no Worker). */
  createWorker(): WorkerLike | undefined;
  /** The fallback, on the main thread. */
  gzip(text: string): Promise<Uint8Array<ArrayBuffer>>;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
  /** The worker could not be used: later page loads of this tab need not try (and be reported by the CSP) again. */
  remember?(): void;
}

/** sessionStorage key set when this tab's pages cannot use the worker. */
export const NO_WORKER_KEY = "replaya:gzip-main-thread";

function tabStorage(): Storage | undefined {
  try {
    return globalThis.sessionStorage;
  } catch {
    return undefined;
  }
}

function browserWorker(): WorkerLike | undefined {
  if (typeof Worker !== "function" || typeof URL?.createObjectURL !== "function") return undefined;
  if (tabStorage()?.getItem(NO_WORKER_KEY)) return undefined;
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "text/javascript" }));
  try {
    return new Worker(url) as unknown as WorkerLike;
  } finally {
    // The worker has its script (or failed to); the URL is not needed again.
    setTimeout(() => URL.revokeObjectURL(url), 30_000);
  }
}

const defaultHost: GzipHost = {
  createWorker: browserWorker,
  gzip,
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as number),
  remember: () => {
    try {
      tabStorage()?.setItem(NO_WORKER_KEY, "1");
    } catch { /* storage blocked: try again next page */ }
  },
};

interface Job {
  text: string;
  resolve(bytes: Uint8Array<ArrayBuffer>): void;
  reject(error: unknown): void;
  timer: unknown;
}

/**
 * A gzip function that compresses in one lazily created worker, and falls
 * back to `host.gzip` for good once the worker cannot be created, errors or
 * does not answer; jobs it held are redone on the main thread.
 */
export function offThreadGzip(host: GzipHost = defaultHost): (text: string) => Promise<Uint8Array<ArrayBuffer>> {
  let worker: WorkerLike | undefined;
  let broken = false;
  let nextId = 0;
  const jobs = new Map<number, Job>();

  const fallback = (job: Job) => host.gzip(job.text).then(job.resolve, job.reject);
  const abandon = () => {
    broken = true;
    host.remember?.();
    try {
      worker?.terminate();
    } catch { /* already gone */ }
    worker = undefined;
    const held = [...jobs.values()];
    jobs.clear();
    for (const job of held) {
      host.clearTimeout(job.timer);
      fallback(job);
    }
  };
  const start = (): WorkerLike | undefined => {
    if (worker || broken) return worker;
    try {
      worker = host.createWorker();
    } catch {
      // Refused (a CSP without blob: workers): remembered for the tab.
      host.remember?.();
      worker = undefined;
    }
    if (!worker) {
      broken = true;
      return undefined;
    }
    worker.onmessage = (event) => {
      const job = jobs.get(event.data?.id);
      if (!job) return;
      jobs.delete(event.data.id);
      host.clearTimeout(job.timer);
      if (event.data.bytes) job.resolve(new Uint8Array(event.data.bytes));
      else fallback(job);
    };
    worker.onerror = abandon;
    return worker;
  };

  return (text) => {
    const w = start();
    if (!w) return host.gzip(text);
    return new Promise((resolve, reject) => {
      const id = nextId++;
      const job: Job = { text, resolve, reject, timer: host.setTimeout(abandon, WORKER_TIMEOUT_MS) };
      jobs.set(id, job);
      try {
        w.postMessage({ id, text });
      } catch {
        abandon();
      }
    });
  };
}
