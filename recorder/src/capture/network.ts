/**
 * fetch and XHR metadata (method, URL without query, status, duration),
 * recorded as `replaya.network` payloads. Bodies and headers are never read.
 * @module
 */
import { stripUrl } from "../url.ts";

/** Globals the network capture patches. */
export interface NetworkTarget {
  fetch?: typeof fetch;
  XMLHttpRequest?: { prototype: XMLHttpRequest };
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
  const emit = (
    type: string,
    method: string,
    url: string,
    start: number,
    status: number,
  ) => {
    try {
      const payload: Record<string, unknown> = {
        type,
        method: method.toUpperCase(),
        url: stripUrl(url, NO_QUERY),
        status,
        durationMs: Math.max(0, Math.round(opts.now() - start)),
      };
      if (status === 0) payload.error = true;
      record(payload);
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
          (res) => emit("fetch", method, url, start, res.status),
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
            emit("xhr", info.method, info.url, start, this.status);
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
