// Test doubles for the recorder: a manual clock and an in-memory ingest server.
import type { Clock } from "../../recorder/src/uploader.ts";
import type { FetchLike } from "../../recorder/src/transport.ts";

/** Lets pending promise chains (including Response.json) run. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

/** A clock whose timers only fire when the test advances time. */
export class FakeClock implements Clock {
  t = 1_700_000_000_000;
  #timers = new Map<number, { at: number; fn: () => void }>();
  #id = 0;

  now = (): number => this.t;

  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = ++this.#id;
    this.#timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  };

  clearTimeout = (id: unknown): void => {
    this.#timers.delete(id as number);
  };

  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** Moves time forward by `ms`, firing due timers in order and settling after each. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await settle();
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.#timers) {
        if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) {
          next = entry;
        }
      }
      if (!next) break;
      this.#timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
      await settle();
    }
    this.t = end;
    await settle();
  }
}

/** A request as seen by the fake server. */
export interface SeenRequest {
  url: string;
  path: string;
  query: URLSearchParams;
  method: string;
  headers: Record<string, string>;
  body: string;
  keepalive: boolean;
  /** `body` parsed as JSON. */
  json: Record<string, unknown>;
}

type Handler = (req: SeenRequest) => Response | undefined;

function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

/** Convenience for handlers. */
export const reply = { json };

/**
 * An ingest server double. Requests are recorded synchronously when fetch is
 * called (so keepalive sends made during pagehide are visible at once).
 * `handlers` are tried first (return undefined to fall through); the default
 * behaviour implements the happy path of the contract.
 */
export class FakeServer {
  requests: SeenRequest[] = [];
  handlers: Handler[] = [];
  sessions = 0;
  watched = false;
  /** When set, every call throws like a network failure. */
  down = false;

  fetch: FetchLike = (input, init) => {
    const url = new URL(input);
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((v, k) => (headers[k] = v));
    const body = typeof init.body === "string" ? init.body : "";
    let parsed: Record<string, unknown> = {};
    try {
      parsed = body ? JSON.parse(body) : {};
    } catch {
      parsed = {};
    }
    const req: SeenRequest = {
      url: input,
      path: url.pathname,
      query: url.searchParams,
      method: init.method ?? "GET",
      headers,
      body,
      keepalive: init.keepalive === true,
      json: parsed,
    };
    this.requests.push(req);
    if (this.down) return Promise.reject(new TypeError("Failed to fetch"));
    for (const h of this.handlers) {
      const res = h(req);
      if (res) return Promise.resolve(res);
    }
    return Promise.resolve(this.#default(req));
  };

  #default(req: SeenRequest): Response {
    if (req.path === "/api/sessions") {
      const resume = req.json.resume as
        | { sessionId: string; token: string }
        | undefined;
      if (resume) return json(200, { ...resume, resumed: true });
      this.sessions++;
      return json(201, {
        sessionId: `s${this.sessions}`,
        token: `t${this.sessions}`,
        resumed: false,
      });
    }
    if (req.path.endsWith("/events")) {
      return json(200, { ok: true, watched: this.watched });
    }
    if (req.path.endsWith("/stop")) return json(200, { ok: true });
    return json(404, { error: { code: "not_found" } });
  }

  /** Requests to the events endpoint, in order. */
  get batches(): SeenRequest[] {
    return this.requests.filter((r) => r.path.endsWith("/events"));
  }

  /** Requests to start or resume a session. */
  get starts(): SeenRequest[] {
    return this.requests.filter((r) => r.path === "/api/sessions");
  }
}

/** An event as received by the server, with the fields tests look at. */
export interface WireEvent {
  type: number;
  timestamp: number;
  data?: {
    tag?: string;
    payload?: Record<string, unknown>;
    href?: string;
    source?: number;
  };
}

/** Events of a batch request. */
export function eventsOf(req: SeenRequest): WireEvent[] {
  return req.json.events as WireEvent[];
}

/** A synthetic rrweb event of `bytes` approximate JSON size. */
export function incremental(
  timestamp: number,
  bytes = 100,
): { type: number; timestamp: number; data: unknown } {
  return {
    type: 3,
    timestamp,
    data: { source: 0, pad: "x".repeat(Math.max(0, bytes - 60)) },
  };
}

/** Page metadata for transport and uploader tests. */
export const testMeta = {
  url: "https://a.com/",
  referrer: "",
  userAgent: "test",
  viewport: { width: 1, height: 1 },
  screen: { width: 1, height: 1 },
  language: "en",
  timezone: "UTC",
  recorderVersion: "0.1.0",
};
