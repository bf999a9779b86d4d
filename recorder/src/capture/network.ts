/**
 * fetch and XHR metadata (method, URL without query, status, duration, the
 * response's size), recorded as `replaya.network` payloads. Bodies are never
 * read; of the headers, only Content-Length. The size is the body's size on
 * the wire (before decompression), from the browser's resource timing entry
 * for the request when there is one that may be read (same origin, or
 * `Timing-Allow-Origin`), else from Content-Length; left out when neither
 * tells (the pane shows "—").
 * @module
 */
import { stripUrl } from "../url.ts";
import type { NetworkPayload } from "../wire.ts";

/** The part of a resource timing entry the size comes from. */
export interface ResourceEntry {
  readonly encodedBodySize: number;
  /** 0 when the entry's details are withheld (cross-origin without Timing-Allow-Origin). */
  readonly requestStart: number;
}

/** Globals the network capture patches (and the resource timing it reads sizes from). */
export interface NetworkTarget {
  fetch?: typeof fetch;
  XMLHttpRequest?: { prototype: XMLHttpRequest };
  performance?: { getEntriesByName(name: string, type?: string): readonly unknown[] };
}

/**
 * The body size of the newest resource timing entry for `url` not taken by
 * an earlier request (each entry sizes one request), or undefined when there
 * is none or its sizes are withheld. A withheld entry reads 0 everywhere; a
 * readable one has a request start, so a real empty body still counts as 0.
 */
export function entrySize(
  target: NetworkTarget,
  url: string,
  taken: WeakSet<object>,
): number | undefined {
  let entries: readonly unknown[];
  try {
    entries = target.performance?.getEntriesByName(url, "resource") ?? [];
  } catch {
    return undefined;
  }
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = entries[i] as ResourceEntry | null;
    if (typeof entry !== "object" || entry === null || taken.has(entry)) continue;
    taken.add(entry);
    const size = entry.encodedBodySize;
    if (typeof size !== "number" || !Number.isFinite(size) || size < 0) return undefined;
    return size === 0 && !(entry.requestStart > 0) ? undefined : size;
  }
  return undefined;
}

/** The Content-Length a response reports (read only if asked for), or undefined; never throws. */
function headerSize(read: (() => string | null) | undefined): number | undefined {
  try {
    return lengthSize(read?.());
  } catch {
    return undefined;
  }
}

/** A Content-Length header's value as a size, or undefined. */
export function lengthSize(value: string | null | undefined): number | undefined {
  if (!value || !/^\s*\d{1,15}\s*$/.test(value)) return undefined;
  return Number(value);
}

/** Settings of the network capture. */
export interface NetworkCaptureOptions {
  now(): number;
  /** Makes a URL absolute (relative to the page). */
  resolve(url: string): string;
  /** True for requests not to record (the recorder's own uploads). */
  ignore(absoluteUrl: string): boolean;
}

// Network URLs never keep their query or fragment.
const NO_QUERY = { query: false, hash: false };

/** Patches fetch and XMLHttpRequest on `target`; returns the uninstaller. */
export function installNetworkCapture(
  target: NetworkTarget,
  record: (payload: Record<string, unknown>) => void,
  opts: NetworkCaptureOptions,
): () => void {
  const restores: Array<() => void> = [];
  const taken = new WeakSet<object>();
  const emit = (
    type: NetworkPayload["type"],
    method: string,
    url: string,
    start: number,
    status: number,
    contentLength?: () => string | null,
  ) => {
    try {
      const payload: NetworkPayload = {
        type,
        method: method.toUpperCase(),
        url: stripUrl(url, NO_QUERY),
        status,
        durationMs: Math.max(0, Math.round(opts.now() - start)),
      };
      if (status === 0) payload.error = true;
      else {
        const size = entrySize(target, url, taken) ?? headerSize(contentLength);
        if (size !== undefined) payload.size = size;
      }
      record(payload as unknown as Record<string, unknown>);
    } catch {
      // Recording must not disturb the request.
    }
  };
  const describe = (raw: string) => {
    const url = opts.resolve(raw);
    return { url, skip: opts.ignore(url) };
  };

  const originalFetch = target.fetch;
  if (typeof originalFetch === "function") {
    const wrappedFetch = function (
      input: RequestInfo | URL,
      init?: RequestInit,
    ): Promise<Response> {
      let info: { url: string; skip: boolean; method: string } | undefined;
      try {
        const req = typeof input === "object" && input && "url" in input ? input as Request : undefined;
        const raw = req ? req.url : String(input);
        info = {
          ...describe(raw),
          method: init?.method ?? req?.method ?? "GET",
        };
      } catch {
        info = undefined;
      }
      const start = opts.now();
      const pending = originalFetch.call(target, input, init);
      if (info && !info.skip) {
        const { url, method } = info;
        pending.then(
          (res) => emit("fetch", method, url, start, res.status, () => res.headers.get("content-length")),
          () => emit("fetch", method, url, start, 0),
        );
      }
      return pending;
    };
    target.fetch = wrappedFetch as typeof fetch;
    restores.push(() => {
      if (target.fetch === wrappedFetch) target.fetch = originalFetch;
    });
  }

  const proto = target.XMLHttpRequest?.prototype;
  if (
    proto && typeof proto.open === "function" &&
    typeof proto.send === "function"
  ) {
    const requests = new WeakMap<
      XMLHttpRequest,
      { method: string; url: string; skip: boolean }
    >();
    const originalOpen = proto.open;
    const originalSend = proto.send;
    const open = function (this: XMLHttpRequest, ...args: unknown[]) {
      try {
        requests.set(this, {
          method: String(args[0]),
          ...describe(String(args[1])),
        });
      } catch {
        // Unrecorded but unaffected.
      }
      return (originalOpen as (...a: unknown[]) => void).apply(this, args);
    };
    const send = function (this: XMLHttpRequest, ...args: unknown[]) {
      try {
        const info = requests.get(this);
        if (info && !info.skip) {
          const start = opts.now();
          this.addEventListener("loadend", () => {
            emit("xhr", info.method, info.url, start, this.status, () => this.getResponseHeader("content-length"));
          });
        }
      } catch {
        // Unrecorded but unaffected.
      }
      return (originalSend as (...a: unknown[]) => void).apply(this, args);
    };
    proto.open = open as XMLHttpRequest["open"];
    proto.send = send as XMLHttpRequest["send"];
    restores.push(() => {
      if (proto.open === open) proto.open = originalOpen;
      if (proto.send === send) proto.send = originalSend;
    });
  }
  return () => restores.forEach((r) => r());
}
