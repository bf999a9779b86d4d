/**
 * The ingest HTTP API as seen by the browser: turns requests and responses
 * into a small set of outcomes the uploader acts upon.
 * @module
 */
import { parseRetryAfter } from "./backoff.ts";
import type { Credentials, StartBody } from "./wire.ts";

/** The fetch signature used (injected so tests run without a network). */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** Outcome of starting or resuming a session. */
export type StartResult =
  | { kind: "ok"; sessionId: string; token: string; resumed: boolean }
  | { kind: "retry"; retryAfterMs?: number }
  | { kind: "rejected"; status: number };

/** Outcome of posting a batch. */
export type SendResult =
  | { kind: "ok"; watched: boolean; token?: string }
  | { kind: "retry"; retryAfterMs?: number }
  | { kind: "session_lost" }
  | { kind: "token_expired" }
  | { kind: "rejected"; status: number };

/** Transient statuses worth retrying. */
export function isRetryable(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/**
 * Maps an events response to an outcome. 409 session_stopped and 404 mean
 * the session is gone; 401 token_expired asks for a token refresh while any
 * other 401 means the token is unusable, so the session is treated as gone.
 */
export function classifySend(
  status: number,
  code: string | undefined,
  retryAfterMs: number | undefined,
): SendResult {
  if (status === 401) {
    return code === "token_expired" ? { kind: "token_expired" } : { kind: "session_lost" };
  }
  if (status === 404) return { kind: "session_lost" };
  if (status === 409) {
    return code === undefined || code === "session_stopped" ? { kind: "session_lost" } : { kind: "rejected", status };
  }
  if (isRetryable(status)) return { kind: "retry", retryAfterMs };
  return { kind: "rejected", status };
}

/** Options of a Transport. */
export interface TransportDeps {
  fetch: FetchLike;
  now(): number;
  /** Gzip implementation, when the platform has one. */
  gzip?: (text: string) => Promise<Uint8Array<ArrayBuffer>>;
  /** Bodies smaller than this are sent uncompressed (not worth the CPU). */
  gzipMinBytes?: number;
  /** Abort a regular request after this long so a hung server cannot stall uploads. Default 30 s. */
  timeoutMs?: number;
}

async function readJson(res: Response): Promise<Record<string, unknown>> {
  try {
    const body = await res.json();
    return body && typeof body === "object" ? body : {};
  } catch {
    return {};
  }
}

function errorCode(body: Record<string, unknown>): string | undefined {
  const err = body.error as { code?: unknown } | undefined;
  return typeof err?.code === "string" ? err.code : undefined;
}

/** Client of the ingest API for one endpoint. */
export class Transport {
  /**
   * @param endpoint server base URL without trailing slash.
   * @param deps fetch, clock and optional gzip.
   */
  readonly endpoint: string;
  #deps: TransportDeps;

  constructor(endpoint: string, deps: TransportDeps) {
    this.endpoint = endpoint;
    this.#deps = deps;
  }

  #eventsUrl(c: Credentials): string {
    return `${this.endpoint}/api/sessions/${encodeURIComponent(c.sessionId)}/events`;
  }

  /** `POST /api/sessions`: starts a session, or resumes one when `body.resume` is set. */
  async start(body: StartBody): Promise<StartResult> {
    let res: Response;
    try {
      res = await this.#deps.fetch(`${this.endpoint}/api/sessions`, {
        method: "POST",
        // The key in a header lets the server refuse a wrong key before reading the body.
        headers: { "Content-Type": "application/json", "X-Replaya-Key": body.projectKey },
        body: JSON.stringify(body),
        credentials: "omit",
      });
    } catch {
      return { kind: "retry" };
    }
    const json = await readJson(res);
    if (res.ok) {
      if (
        typeof json.sessionId !== "string" || typeof json.token !== "string"
      ) {
        return { kind: "retry" };
      }
      return {
        kind: "ok",
        sessionId: json.sessionId,
        token: json.token,
        resumed: json.resumed === true,
      };
    }
    if (isRetryable(res.status)) {
      return {
        kind: "retry",
        retryAfterMs: parseRetryAfter(
          res.headers.get("Retry-After"),
          this.#deps.now(),
        ),
      };
    }
    return { kind: "rejected", status: res.status };
  }

  /** Posts a batch body with the bearer token, gzipped when worthwhile. */
  async send(c: Credentials, body: string): Promise<SendResult> {
    const headers: Record<string, string> = {
      "Authorization": `Bearer ${c.token}`,
      "Content-Type": "application/json",
    };
    let payload: BodyInit = body;
    const { gzip, gzipMinBytes = 1024 } = this.#deps;
    if (gzip && body.length >= gzipMinBytes) {
      try {
        payload = await gzip(body);
        headers["Content-Encoding"] = "gzip";
      } catch {
        payload = body;
      }
    }
    const ctl = typeof AbortController === "function" ? new AbortController() : undefined;
    const timer = ctl ? setTimeout(() => ctl.abort(), this.#deps.timeoutMs ?? 30_000) : undefined;
    try {
      return await this.#outcome(
        this.#deps.fetch(this.#eventsUrl(c), {
          method: "POST",
          headers,
          body: payload,
          credentials: "omit",
          signal: ctl?.signal,
        }),
      );
    } catch {
      return { kind: "retry" };
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Posts a batch that must survive the page unloading: keepalive and plain
   * text, so no CORS preflight is needed, which leaves no header for the
   * token: it goes in the body (never the query string, which proxies log).
   * fetch is called synchronously, before this returns.
   */
  sendKeepalive(c: Credentials, body: string): Promise<SendResult> {
    try {
      return this.#outcome(
        this.#deps.fetch(this.#eventsUrl(c), {
          method: "POST",
          headers: { "Content-Type": "text/plain;charset=UTF-8" },
          body: `{"token":${JSON.stringify(c.token)},${body.slice(1)}`,
          keepalive: true,
          credentials: "omit",
        }),
      ).catch(() => ({ kind: "retry" }));
    } catch {
      return Promise.resolve({ kind: "retry" });
    }
  }

  /** `POST /api/sessions/{id}/stop`; resolves true when the server accepted it. */
  async stop(
    c: Credentials,
    body: { writerId: string; seq: number; reason: "stop" },
  ): Promise<boolean> {
    try {
      const res = await this.#deps.fetch(
        `${this.endpoint}/api/sessions/${encodeURIComponent(c.sessionId)}/stop`,
        {
          method: "POST",
          headers: {
            "Authorization": `Bearer ${c.token}`,
            "Content-Type": "application/json",
          },
          body: JSON.stringify(body),
          credentials: "omit",
        },
      );
      return res.ok;
    } catch {
      return false;
    }
  }

  async #outcome(pending: Promise<Response>): Promise<SendResult> {
    const res = await pending;
    const json = await readJson(res);
    if (res.ok) {
      return {
        kind: "ok",
        watched: json.watched === true,
        token: typeof json.token === "string" ? json.token : undefined,
      };
    }
    return classifySend(
      res.status,
      errorCode(json),
      parseRetryAfter(res.headers.get("Retry-After"), this.#deps.now()),
    );
  }
}
