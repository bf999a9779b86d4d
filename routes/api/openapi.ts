/**
 * The HTTP API described as OpenAPI 3.1, served at `GET /api/openapi.json`.
 * `tests/api/openapi_test.ts` checks it against the app's routes both ways:
 * every API route is documented and every documented operation exists.
 *
 * @module
 */

import { Hono } from "hono";
import { VERSION } from "../../lib/version.ts";

const json = (schema: unknown, description = "OK") => ({
  description,
  content: { "application/json": { schema } },
});
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const error = (description: string) => json(ref("Error"), description);
const sse = (description: string) => ({
  description,
  content: { "text/event-stream": { schema: { type: "string" } } },
});
const id = { name: "id", in: "path", required: true, schema: ref("SessionId") };
const viewer = [{ cookie: [] }, { adminToken: [] }, { readToken: [] }];
const ops = [{ cookie: [] }, { adminToken: [] }, { opsToken: [] }];
const opsErrors = {
  "401": error("not logged in"),
  "403": error("a read token of another scope than ops (`token_scope`)"),
};
const appendToken = [{ appendToken: [] }];
const query = (name: string, description: string, schema: unknown = { type: "string" }) => ({
  name,
  in: "query",
  description,
  schema,
});
const filters = [
  query("user", "the exact user id (case ignored)"),
  query("source", "exact source label"),
  query("url", "entry URL contains (case-insensitive)"),
  query("status", "live or ended", { enum: ["live", "ended"] }),
  query("errors", "has errors", { enum: ["yes", "no"] }),
  query("from", "started on or after this UTC day", { type: "string", format: "date" }),
  query("to", "started on or before this UTC day", { type: "string", format: "date" }),
  query("friction", "with this friction signal (from the summaries and live running counts; `any`: with any)", {
    enum: ["rage", "dead", "error_click", "thrash", "abandoned", "any"],
  }),
];
const ingestErrors = {
  "400": error("malformed request"),
  "401": error("missing, malformed, forged or expired key or token, or a token in the query string (`token_in_query`)"),
  "403": error("the token belongs to another session, or the origin is not allowed"),
  "408": error("the body did not arrive in time"),
  "409": error("the session has ended (`session_stopped`): start a new one"),
  "413": error("body, inflated body or batch too large"),
  "422": error("invalid metadata or events"),
  "429": error(
    "rate limited, or over the project's budget (`project_budget_exceeded`, its name in `error.budget`); see Retry-After",
  ),
  "503": error("the store is unavailable; see Retry-After"),
};
const readErrors = { "400": error("not a session id"), "401": error("not logged in"), "404": error("no such session") };
/** Streams are capped per read token and per process. */
const tooManyStreams = { "429": error("too many streams open (`too_many_streams`); see Retry-After") };

/** The OpenAPI document. */
export const OPENAPI = {
  openapi: "3.1.0",
  info: {
    title: "RePlaya",
    version: VERSION,
    description:
      "Self-hosted session replay on durable streams. Ingest is public (write-only project keys, then a signed append token per session); everything else needs the dashboard login (a cookie from /login, or the admin token as a bearer) unless the server listens on loopback without one. Read tokens (minted on /settings/tokens) may GET the read API and, with the delete scope, delete sessions (no CSRF token then); they open no page. Tokens of the ops scope read /metrics and /api/health only, and only they (or the login) do, unless REPLAYA_PUBLIC_OPS makes those public. The MCP server's streamable HTTP transport is at POST /mcp (stateless, JSON answers), behind the same credentials.",
  },
  paths: {
    "/api/sessions": {
      post: {
        operationId: "startSession",
        summary: "Start (or resume) a recording session",
        parameters: [{ name: "X-Replaya-Key", in: "header", schema: { type: "string" }, description: "project key" }],
        requestBody: { required: true, content: { "application/json": { schema: ref("StartBody") } } },
        responses: {
          "200": json(ref("StartResponse"), "resumed"),
          "201": json(ref("StartResponse"), "started"),
          ...ingestErrors,
        },
      },
      get: {
        operationId: "listSessions",
        summary: "The session list, newest first",
        security: viewer,
        parameters: [
          query("limit", "rows per page (1–200, default 50)", { type: "integer", minimum: 1, maximum: 200 }),
          query("cursor", "the `next` of the previous page"),
          query(
            "sort",
            "`newest` (default) or `friction`: most friction signals first, then newest; ranks the sessions within the scan budget (`stoppedEarly` when it ran out)",
            { enum: ["newest", "friction"] },
          ),
          ...filters,
        ],
        responses: {
          "200": json(ref("SessionPage")),
          "400": error("limit is not an integer from 1 to 200"),
          "401": error("not logged in"),
        },
      },
    },
    "/api/sessions/{id}/events": {
      post: {
        operationId: "appendEvents",
        summary: "Append a batch of rrweb events (JSON, gzip, or keepalive text/plain with the token in the body)",
        security: appendToken,
        parameters: [id],
        requestBody: { required: true, content: { "application/json": { schema: ref("EventsBody") } } },
        responses: { "200": json(ref("EventsResponse")), ...ingestErrors },
      },
      get: {
        operationId: "readEvents",
        summary: "The session as NDJSON: meta, event batches, stop",
        security: viewer,
        parameters: [id],
        responses: {
          "200": { description: "OK", content: { "application/x-ndjson": { schema: { type: "string" } } } },
          ...readErrors,
          ...tooManyStreams,
        },
      },
    },
    "/api/sessions/{id}/stop": {
      post: {
        operationId: "stopSession",
        summary: "End a session; later writes get 409",
        security: appendToken,
        parameters: [id],
        responses: {
          "200": json({
            type: "object",
            properties: { ok: { type: "boolean" }, stopped: { type: "boolean" } },
          }),
          ...ingestErrors,
        },
      },
    },
    "/api/sessions/{id}": {
      get: {
        operationId: "getSession",
        summary: "One session's metadata and status",
        security: viewer,
        parameters: [id],
        responses: { "200": json(ref("SessionDetails")), ...readErrors },
      },
      delete: {
        operationId: "deleteSession",
        summary: "Delete a session",
        security: viewer,
        parameters: [id, {
          name: "X-CSRF-Token",
          in: "header",
          required: false,
          schema: { type: "string" },
          description: "required with the cookie; not with a read token of the delete scope",
        }],
        responses: {
          "200": json({ type: "object", properties: { ok: { type: "boolean" } } }),
          "403": error("missing or wrong CSRF token, or a read token without the delete scope"),
          ...readErrors,
        },
      },
    },
    "/api/sessions/{id}/live": {
      get: {
        operationId: "followSession",
        summary: "SSE: the session from `from` (or Last-Event-ID), then live until it stops",
        description:
          "Events `meta`, `events` ({writerId, batch, events}), `live` (caught up), `stop`, and `behind` (the viewer fell behind: reconnect with Last-Event-ID). Event ids are record seq numbers.",
        security: viewer,
        parameters: [
          id,
          query("from", "seq number to start at", { type: "integer", minimum: 0 }),
          { name: "Last-Event-ID", in: "header", schema: { type: "string" } },
        ],
        responses: { "200": sse("the session's items"), ...readErrors, ...tooManyStreams },
      },
    },
    "/api/sessions/{id}/export": {
      get: {
        operationId: "exportSession",
        summary: "Download a session: metadata and every rrweb event",
        security: viewer,
        parameters: [id],
        responses: { "200": json({ type: "object" }, "replaya-session/1 JSON"), ...readErrors, ...tooManyStreams },
      },
    },
    "/api/sessions/{id}/report": {
      get: {
        operationId: "getSessionReport",
        summary: "The session's friction report: pages and time on each, signals with their element, errors, the end",
        description:
          "Built from the session's stream with the ingest detector, bounded (events read, reading time, list sizes): `truncated` says which bound stopped it; it then covers the session up to `endedAt`. Abandoned forms are decided once the session has ended. Deterministic for a given stream.",
        security: viewer,
        parameters: [id],
        responses: { "200": json(ref("FrictionReport")), ...readErrors },
      },
    },
    "/api/sessions/{id}/report.md": {
      get: {
        operationId: "getSessionReportMarkdown",
        summary: "The friction report as Markdown",
        security: viewer,
        parameters: [id],
        responses: {
          "200": { description: "OK", content: { "text/markdown": { schema: { type: "string" } } } },
          ...readErrors,
        },
      },
    },
    "/api/sessions/{id}/assets": {
      get: {
        operationId: "getSessionAssets",
        summary: "The session's asset map: each image or font URL as recorded → its cached copy",
        description:
          "Filled in the background by the asset cache (REPLAYA_ASSET_CACHE) as batches arrive; `failed` says why a URL is not cached. The player rewrites the recorded URLs to `/api/assets/{hash}`.",
        security: viewer,
        parameters: [id],
        responses: {
          "200": json(ref("SessionAssets")),
          "400": error("not a session id"),
          "401": error("not logged in"),
        },
      },
    },
    "/api/assets/{hash}": {
      get: {
        operationId: "getAsset",
        summary: "One cached image or font, by the SHA-256 of its bytes",
        description:
          "Immutable; typed as stored, nosniff, `Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; sandbox`. Same-origin `<img>`, CSS image and font requests are allowed (the replay's iframe makes them).",
        security: viewer,
        parameters: [{
          name: "hash",
          in: "path",
          required: true,
          schema: { type: "string", pattern: "^[0-9a-f]{64}$" },
        }],
        responses: {
          "200": { description: "the asset", content: { "image/*": {}, "font/*": {} } },
          "304": { description: "not modified (If-None-Match)" },
          "400": error("not a SHA-256 in lowercase hex"),
          "401": error("not logged in"),
          "404": error("no such asset"),
        },
      },
    },
    "/api/sessions/feed": {
      get: {
        operationId: "followNewSessions",
        summary: "SSE: one `session` event (a start summary) per new session",
        security: viewer,
        responses: { "200": sse("new sessions"), "401": error("not logged in"), ...tooManyStreams },
      },
    },
    "/api/wall": {
      get: {
        operationId: "followLiveWall",
        summary: "SSE for the live wall: `session` (a row), `batch` ({id, events}), `end` ({id})",
        security: viewer,
        parameters: [
          ...filters.slice(0, 3),
          query("max", "tiles at most (1–48)", { type: "integer", minimum: 1, maximum: 48 }),
        ],
        responses: { "200": sse("every live session, multiplexed"), "401": error("not logged in"), ...tooManyStreams },
      },
    },
    "/api/health": {
      get: {
        operationId: "health",
        summary: "Status, version, uptime and store backend (and S2 basin); no file path or endpoint",
        security: ops,
        responses: {
          "200": json({
            type: "object",
            required: ["status", "version", "uptimeSecs", "store"],
            properties: {
              status: { const: "ok" },
              version: { type: "string" },
              uptimeSecs: { type: "integer" },
              store: {
                type: "object",
                required: ["backend"],
                properties: { backend: { enum: ["s2", "sqlite"] }, basin: { type: "string" } },
              },
            },
          }),
          ...opsErrors,
        },
      },
    },
    "/healthz": {
      get: {
        operationId: "healthz",
        summary: "200 when the store answers within 2 s, 503 otherwise (no login, no details)",
        security: [],
        responses: {
          "200": json({ type: "object", properties: { status: { const: "ok" } } }),
          "503": json({ type: "object", properties: { status: { const: "unavailable" } } }, "store unreachable"),
        },
      },
    },
    "/metrics": {
      get: {
        operationId: "metrics",
        summary: "Prometheus metrics",
        security: ops,
        responses: {
          "200": { description: "OK", content: { "text/plain": { schema: { type: "string" } } } },
          ...opsErrors,
        },
      },
    },
    "/api/openapi.json": {
      get: {
        operationId: "openapi",
        summary: "This document",
        security: [],
        responses: { "200": json({ type: "object" }) },
      },
    },
  },
  components: {
    securitySchemes: {
      cookie: { type: "apiKey", in: "cookie", name: "replaya_session", description: "from POST /login" },
      adminToken: { type: "http", scheme: "bearer", description: "REPLAYA_ADMIN_TOKEN" },
      appendToken: { type: "http", scheme: "bearer", description: "the session's append token" },
      readToken: {
        type: "http",
        scheme: "bearer",
        description:
          "a read token (rpt_…) from /settings/tokens: GET on the read API and /mcp, and DELETE of sessions with the delete scope; not /metrics or /api/health",
      },
      opsToken: {
        type: "http",
        scheme: "bearer",
        description: "a read token (rpt_…) of the ops scope from /settings/tokens: GET /metrics and /api/health only",
      },
    },
    schemas: {
      SessionId: { type: "string", pattern: "^\\d{13}[a-z0-9]{12}$" },
      SessionAssets: {
        type: "object",
        required: ["enabled", "assets", "failed"],
        properties: {
          enabled: { type: "boolean", description: "whether the asset cache is on" },
          assets: {
            type: "object",
            additionalProperties: {
              type: "object",
              properties: { hash: { type: "string" }, type: { type: "string" } },
            },
          },
          failed: { type: "object", additionalProperties: { type: "string" } },
        },
      },
      Error: {
        type: "object",
        required: ["error"],
        properties: {
          error: {
            type: "object",
            required: ["code", "message"],
            properties: { code: { type: "string" }, message: { type: "string" } },
          },
        },
      },
      PageMeta: {
        type: "object",
        required: ["url"],
        properties: {
          url: { type: "string", format: "uri" },
          referrer: { type: "string" },
          userAgent: { type: "string" },
          viewport: ref("Size"),
          screen: ref("Size"),
          language: { type: "string" },
          timezone: { type: "string" },
          source: { type: "string" },
          userId: { type: "string" },
          traits: { type: "object" },
          recorderVersion: { type: "string" },
        },
      },
      Size: { type: "object", properties: { width: { type: "number" }, height: { type: "number" } } },
      StartBody: {
        type: "object",
        required: ["meta"],
        properties: {
          projectKey: { type: "string", description: "or the X-Replaya-Key header" },
          resume: {
            type: "object",
            properties: { sessionId: ref("SessionId"), token: { type: "string" } },
          },
          meta: ref("PageMeta"),
        },
      },
      StartResponse: {
        type: "object",
        properties: {
          sessionId: ref("SessionId"),
          token: { type: "string" },
          resumed: { type: "boolean" },
          watched: { type: "boolean" },
        },
      },
      EventsBody: {
        type: "object",
        required: ["writerId", "seq", "events"],
        properties: {
          writerId: { type: "string", pattern: "^[A-Za-z0-9_-]{1,64}$" },
          seq: { type: "integer", minimum: 0, description: "per-writer batch number; retries reuse it" },
          sentAt: { type: "number", description: "client clock at send, ms" },
          token: {
            type: "string",
            description: "the append token, only for keepalive requests (which cannot set headers); never in the URL",
          },
          events: {
            type: "array",
            items: ref("RrwebEvent"),
            description: "at most REPLAYA_MAX_EVENTS_PER_BATCH (5,000 by default), each nested at most 2,000 levels",
          },
        },
      },
      EventsResponse: {
        type: "object",
        properties: {
          ok: { type: "boolean" },
          watched: { type: "boolean", description: "someone watches live: flush every 100 ms" },
          token: { type: "string", description: "a refreshed append token" },
        },
      },
      RrwebEvent: {
        type: "object",
        required: ["type", "timestamp"],
        properties: { type: { type: "integer", minimum: 0, maximum: 6 }, timestamp: { type: "number" }, data: {} },
      },
      SessionRow: {
        type: "object",
        properties: {
          id: ref("SessionId"),
          createdAt: { type: "number" },
          url: { type: "string" },
          source: { type: "string" },
          userId: { type: "string" },
          browser: { type: "string" },
          os: { type: "string" },
          device: { type: "string" },
          live: { type: "boolean" },
          disconnected: { type: "boolean" },
          durationMs: { type: "number" },
          end: ref("SessionEnd"),
          running: {
            type: "object",
            description: "a live session's counts so far; `partial`: not every record is counted yet (a lower bound)",
            properties: {
              events: { type: "integer" },
              clicks: { type: "integer" },
              pages: { type: "integer" },
              errors: { type: "integer" },
              dropped: { type: "integer" },
              friction: ref("FrictionCounts"),
              lastEventAt: { type: "number" },
              partial: { type: "boolean" },
            },
          },
        },
      },
      SessionEnd: {
        type: "object",
        properties: {
          endedAt: { type: "number" },
          lastEventAt: { type: "number" },
          reason: { type: "string" },
          events: { type: "integer" },
          clicks: { type: "integer" },
          pages: { type: "integer" },
          errors: { type: "integer" },
          dropped: { type: "integer" },
          friction: ref("FrictionCounts"),
          urls: {
            type: "array",
            items: { type: "string" },
            maxItems: 20,
            description: "every page URL (loads and in-page navigations), distinct; the `url` filter matches them",
          },
        },
      },
      FrictionCounts: {
        type: "object",
        description: "friction signals by kind; a kind absent = 0",
        properties: Object.fromEntries(
          ["rage", "dead", "error_click", "thrash", "abandoned_form"].map((k) => [k, { type: "integer" }]),
        ),
      },
      FrictionSignal: {
        type: "object",
        required: ["kind", "at"],
        properties: {
          kind: { enum: ["rage", "dead", "error_click", "thrash", "abandoned_form"] },
          at: { type: "number", description: "capture time, ms since the epoch" },
          nodeId: { type: "integer", description: "rrweb node id on the page at that time" },
          element: { type: "string", description: "a short handle and text of the element, e.g. `button#buy “Buy”`" },
          page: { type: "string", description: "the page's URL" },
          count: { type: "integer", description: "clicks, reversals, focus changes or fields involved" },
          detail: { type: "string", description: "thrashing: `scroll` or `focus`" },
        },
      },
      FrictionReport: {
        type: "object",
        properties: {
          id: ref("SessionId"),
          startedAt: { type: "number" },
          endedAt: { type: "number", description: "the last event read" },
          live: { type: "boolean" },
          pages: {
            type: "array",
            items: {
              type: "object",
              properties: { url: { type: "string" }, at: { type: "number" }, durationMs: { type: "number" } },
            },
          },
          signals: { type: "array", items: ref("FrictionSignal") },
          errors: {
            type: "array",
            items: {
              type: "object",
              properties: { at: { type: "number" }, message: { type: "string" }, page: { type: "string" } },
            },
          },
          counts: ref("FrictionCounts"),
          ended: {
            type: "object",
            properties: {
              page: { type: "string" },
              lastAction: { type: "string" },
              lastActionAt: { type: "number" },
              reason: { type: "string" },
            },
          },
          truncated: {
            type: "object",
            properties: {
              reason: { enum: ["events", "bytes", "time", "signals", "pages", "errors"] },
              limit: { type: "integer" },
            },
          },
        },
      },
      SessionPage: {
        type: "object",
        properties: {
          sessions: { type: "array", items: ref("SessionRow") },
          next: { type: ["string", "null"], description: "cursor of the next page" },
          stoppedEarly: { type: "boolean", description: "the scan budget ran out; `next` continues" },
          scanned: { type: "integer" },
        },
      },
      SessionDetails: {
        type: "object",
        properties: {
          meta: { allOf: [ref("PageMeta")], properties: { id: ref("SessionId"), createdAt: { type: "number" } } },
          live: { type: "boolean" },
          disconnected: { type: "boolean" },
          end: ref("SessionEnd"),
        },
      },
    },
  },
} as const;

/** `GET /api/openapi.json`. */
export function openapiRoute(): Hono {
  return new Hono().get("/", (c) => c.json(OPENAPI));
}
