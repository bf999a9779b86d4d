/**
 * The RePlaya JSON API as the CLI and the MCP tools see it: a base URL, a
 * read token, and typed answers. Imports nothing of the server (only the
 * wire types), so `cli/main.ts` runs from a URL or as a compiled binary.
 *
 * @module
 */

import type { FrictionReport, SessionMeta, SessionRow, StopInfo } from "../recorder/src/wire.ts";

/** A request that failed: the server's error code and message, or why it could not be reached. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/** The list filters, as `GET /api/sessions` takes them. */
export interface ListFilters {
  user?: string;
  source?: string;
  url?: string;
  status?: "live" | "ended";
  errors?: "yes" | "no";
  from?: string;
  to?: string;
  friction?: string;
  limit?: number;
  cursor?: string;
}

/** A page of the list. */
export interface ListPage {
  sessions: SessionRow[];
  next: string | null;
  stoppedEarly: boolean;
  scanned: number;
}

/** `GET /api/sessions/{id}`. */
export interface SessionDetails {
  meta: SessionMeta;
  live: boolean;
  disconnected?: boolean;
  end?: StopInfo["summary"];
  [key: string]: unknown;
}

/** One item of the live stream: what `/api/sessions/{id}/live` sends. */
export type LiveItem =
  | { kind: "meta"; meta: SessionMeta }
  | { kind: "events"; events: Array<{ type: number; timestamp: number; data?: unknown }> }
  | { kind: "stop"; stop: StopInfo };

/** How to reach a server. `fetch` may be swapped (the server's /mcp calls its own app in-process). */
export interface ApiOptions {
  url: string;
  token?: string;
  fetch?: (request: Request) => Promise<Response>;
}

/** A client of one server. */
export class Api {
  readonly url: string;
  #token?: string;
  #fetch: (request: Request) => Promise<Response>;

  constructor(options: ApiOptions) {
    this.url = options.url.replace(/\/+$/, "");
    this.#token = options.token;
    this.#fetch = options.fetch ?? ((request) => fetch(request));
  }

  list(filters: ListFilters = {}): Promise<ListPage> {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(filters)) {
      if (value !== undefined && value !== "") query.set(key, String(value));
    }
    return this.#json(`/api/sessions${query.size ? `?${query}` : ""}`);
  }

  show(id: string): Promise<SessionDetails> {
    return this.#json(`/api/sessions/${encodeURIComponent(id)}`);
  }

  report(id: string): Promise<FrictionReport> {
    return this.#json(`/api/sessions/${encodeURIComponent(id)}/report`);
  }

  async reportMarkdown(id: string): Promise<string> {
    return await (await this.request(`/api/sessions/${encodeURIComponent(id)}/report.md`)).text();
  }

  /** The export download, as a response whose body the caller streams. */
  exportSession(id: string, signal?: AbortSignal): Promise<Response> {
    return this.request(`/api/sessions/${encodeURIComponent(id)}/export`, { signal });
  }

  async delete(id: string): Promise<void> {
    await (await this.request(`/api/sessions/${encodeURIComponent(id)}`, { method: "DELETE" })).body?.cancel();
  }

  /**
   * Follows a session's live stream (the whole session first, then live) until it ends or `signal` aborts.
   * When the server says this client fell `behind`, it reconnects from the last event id, as EventSource does.
   */
  async *live(id: string, signal?: AbortSignal): AsyncGenerator<LiveItem> {
    let lastId: string | undefined;
    for (let behind = true; behind && !signal?.aborted;) {
      behind = false;
      const headers: Record<string, string> = { accept: "text/event-stream" };
      if (lastId !== undefined) headers["last-event-id"] = lastId;
      const res = await this.request(`/api/sessions/${encodeURIComponent(id)}/live`, { signal, headers });
      const reader = res.body!.pipeThrough(new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>)
        .getReader();
      let buffer = "";
      try {
        while (true) {
          const { done, value } = await reader.read().catch((error) => {
            if (signal?.aborted) return { done: true, value: undefined };
            throw error;
          });
          if (done) break;
          buffer += value;
          let end: number;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const frame = parseFrame(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
            if (frame.id !== undefined) lastId = frame.id;
            if (frame.event === "behind") behind = true;
            if (frame.item) yield frame.item;
            if (frame.item?.kind === "stop") return;
          }
        }
      } finally {
        await reader.cancel().catch(() => {});
      }
    }
  }

  /** One request with the token; a non-2xx answer or an unreachable server is an {@link ApiError}. */
  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.#token) headers.set("authorization", `Bearer ${this.#token}`);
    let res: Response;
    try {
      res = await this.#fetch(new Request(this.url + path, { ...init, headers }));
    } catch (error) {
      if (init.signal?.aborted) throw error;
      throw new ApiError(0, "unreachable", `cannot reach ${this.url}: ${(error as Error).message}`);
    }
    if (res.ok) return res;
    const text = await res.text().catch(() => "");
    let code = `http_${res.status}`;
    let message = text.slice(0, 200) || res.statusText;
    try {
      const body = JSON.parse(text);
      if (body?.error?.code) ({ code, message } = body.error);
    } catch { /* not JSON: the text */ }
    throw new ApiError(res.status, code, `${res.status} ${code}: ${message}`);
  }

  async #json<T>(path: string): Promise<T> {
    return await (await this.request(path)).json() as T;
  }
}

/** One SSE frame: its event name, id, and item when it is one (meta, events, stop). */
function parseFrame(block: string): { event: string; id?: string; item?: LiveItem } {
  let event = "message";
  let id: string | undefined;
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) event = line.slice(6).trim();
    else if (line.startsWith("id:")) id = line.slice(3).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
  }
  if (data.length === 0) return { event, id };
  try {
    const value = JSON.parse(data.join("\n"));
    if (event === "meta") return { event, id, item: { kind: "meta", meta: value } };
    if (event === "events") {
      return { event, id, item: { kind: "events", events: Array.isArray(value.events) ? value.events : [] } };
    }
    if (event === "stop") return { event, id, item: { kind: "stop", stop: value } };
  } catch { /* a frame we cannot read is skipped */ }
  return { event, id };
}
