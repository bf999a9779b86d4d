/**
 * The public ingest API the recorder talks to:
 *
 * - `POST /api/sessions` starts (or resumes) a session; returns its id and a signed append token
 * - `POST /api/sessions/:id/events` appends one recorder batch (JSON or gzip); empty = heartbeat
 * - `POST /api/sessions/:id/stop` ends the session with the `stopped` fence
 *
 * Keys are public and write-only; tokens are bound to one session. Every
 * check runs before the first append, so a rejected request writes nothing.
 *
 * @module
 */

import { log } from "../../lib/log.ts";
import { type Context, Hono } from "hono";
import { cors } from "hono/cors";
import type { HttpConfig, IngestConfig } from "../../lib/config.ts";
import type { AppendTokens } from "../../lib/auth/append_tokens.ts";
import { jsonError } from "../../lib/http/errors.ts";
import { BodyError, readJsonBody, readJsonBodySized } from "../../lib/http/body.ts";
import { type BudgetRefusal, ProjectBudgets } from "../../lib/http/project_budgets.ts";
import { RateLimiter } from "../../lib/http/rate_limit.ts";
import { clientKey } from "../../lib/http/client.ts";
import { EventValidationError, validateEvents } from "../../lib/sessions/events.ts";
import { isSessionId } from "../../lib/sessions/ids.ts";
import type { PageMeta } from "@replaya/recorder/wire";
import { parseMeta } from "../../lib/sessions/meta_input.ts";
import { SessionNotFoundError, type Sessions, SessionStoppedError } from "../../lib/sessions/service.ts";
import { StoreError } from "../../lib/store/mod.ts";
import type { Metrics } from "../../lib/metrics.ts";

/** What the ingest routes need. */
export interface IngestDeps {
  sessions: Sessions;
  tokens: AppendTokens;
  /** key → project name */
  projectKeys: Map<string, string>;
  config: IngestConfig;
  http: Pick<HttpConfig, "trustProxyHops" | "bodyTimeoutMs">;
  metrics?: Metrics;
  /** The asset cache, when on: told about every stored batch (it never delays the response). */
  assets?: { observe(sessionId: string, events: readonly unknown[]): void };
}

/** A resume may present a token that expired up to this long ago. */
const RESUME_GRACE_MS = 7 * 86_400_000;
const WRITER_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** A session start is metadata only (traits ≤ 4 KiB): no reason to read more before the key is known. */
const START_MAX_BYTES = 64 * 1024;
/** Browsers allow 64 KiB of keepalive bodies in flight: a body that carries its token is no bigger. */
const KEEPALIVE_MAX_BYTES = 64 * 1024;
/** The header a recorder sends its project key in, so it is checked before the body is read. */
export const PROJECT_KEY_HEADER = "X-Replaya-Key";
/** The ingest routes: the only ones with CORS, an origin allow-list and per-client rate limits. */
const INGEST_PATHS = ["/", "/:id/events", "/:id/stop"];

/** The ingest routes, mounted at `/api/sessions`. */
export function ingestRoutes(deps: IngestDeps): Hono {
  const { sessions, tokens, config } = deps;
  const perClient = new RateLimiter({
    ratePerSec: config.clientRatePerMinute / 60,
    burst: Math.max(10, config.clientRatePerMinute / 6),
  });
  const perSession = new RateLimiter({
    ratePerSec: config.sessionRatePerSecond,
    burst: config.sessionRatePerSecond * 2,
  });
  const budgets = new ProjectBudgets(config.projectBudgets);
  const refuse = (c: Context, project: string, refusal: BudgetRefusal) => {
    deps.metrics?.budgetRefusals.inc({ project, budget: refusal.budget });
    c.header("Retry-After", String(refusal.retryAfterSecs));
    return jsonError(c, 429, "project_budget_exceeded", refusal.message, { budget: refusal.budget });
  };
  const limits = {
    maxBytes: config.maxBodyBytes,
    maxInflatedBytes: config.maxInflatedBytes,
    timeoutMs: deps.http.bodyTimeoutMs,
  };
  const startLimits = { ...limits, maxBytes: START_MAX_BYTES, maxInflatedBytes: START_MAX_BYTES };
  const keepaliveLimits = { ...limits, maxBytes: KEEPALIVE_MAX_BYTES, maxInflatedBytes: KEEPALIVE_MAX_BYTES };
  const app = new Hono();

  const allowed = (origin: string) => config.allowedOrigins.length === 0 || config.allowedOrigins.includes(origin);
  const corsForIngest = cors({
    origin: (origin) => (origin && allowed(origin) ? origin : null),
    allowMethods: ["POST", "OPTIONS"],
    allowHeaders: ["Content-Type", "Content-Encoding", "Authorization", PROJECT_KEY_HEADER],
    maxAge: 7200,
  });
  for (const path of INGEST_PATHS) {
    // Registered for POST and OPTIONS only: GET /:id/events is the read API and never gets a CORS grant.
    app.on(["POST", "OPTIONS"], path, corsForIngest, async (c, next) => {
      const origin = c.req.header("origin");
      if (origin && !allowed(origin)) {
        return jsonError(c, 403, "origin_not_allowed", `origin ${origin} may not send recordings`);
      }
      const decision = perClient.take(clientKey(c, deps.http.trustProxyHops));
      if (!decision.ok) return rateLimited(c, decision.retryAfterSecs);
      await next();
    });
  }

  app.post("/", async (c) => {
    // A key in the header is checked before any byte of the body is read.
    const headerKey = c.req.header(PROJECT_KEY_HEADER);
    if (headerKey !== undefined && !deps.projectKeys.has(headerKey)) {
      return jsonError(c, 401, "invalid_project_key", "unknown project key");
    }
    const body = await readJsonBody(c.req.raw, startLimits);
    const input = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
    const key = headerKey ?? (typeof input.projectKey === "string" ? input.projectKey : "");
    if (!key) return jsonError(c, 401, "missing_project_key", "projectKey is required");
    const project = deps.projectKeys.get(key);
    if (!project) return jsonError(c, 401, "invalid_project_key", "unknown project key");
    const resume = input.resume as { sessionId?: unknown; token?: unknown } | undefined;
    if (resume !== undefined) {
      if (!isSessionId(resume?.sessionId)) {
        return jsonError(c, 400, "invalid_session_id", "resume.sessionId is invalid");
      }
      const check = await tokens.check(String(resume.token ?? ""), resume.sessionId, RESUME_GRACE_MS);
      if (!check.ok) return jsonError(c, 401, `token_${check.problem}`, "resume token is not valid for this session");
      if (!(await sessions.isLive(resume.sessionId))) {
        return jsonError(c, 409, "session_stopped", "that session has ended; start a new one");
      }
      await sessions.heartbeat(resume.sessionId);
      const token = await tokens.issue(resume.sessionId);
      return c.json({
        sessionId: resume.sessionId,
        token,
        resumed: true,
        watched: sessions.isWatched(resume.sessionId),
      });
    }
    let fields: PageMeta;
    try {
      fields = parseMeta(input.meta);
    } catch (error) {
      return jsonError(c, 422, "invalid_meta", (error as Error).message);
    }
    const refusal = budgets.start(project);
    if (refusal) return refuse(c, project, refusal);
    const meta = await sessions.create({ ...fields, project });
    deps.metrics?.sessionsStarted.inc();
    return c.json({ sessionId: meta.id, token: await tokens.issue(meta.id), resumed: false, watched: false }, 201);
  });

  app.post("/:id/events", async (c) => {
    // A keepalive request (sent as the page goes away) can set no header: its token is in its body, so that body is
    // read first, at most a keepalive's worth. Every other request is authorized before a byte of its body is read.
    const bearer = bearerToken(c);
    const early = bearer === undefined && !c.req.query("token")
      ? await readJsonBody(c.req.raw, keepaliveLimits) as Record<string, unknown> | null
      : undefined;
    const bodyToken = typeof early?.token === "string" ? early.token : undefined;
    const auth = await authorize(c, bearer ?? bodyToken, tokens, perSession);
    if (auth instanceof Response) return auth;
    const { id, expiresAt } = auth;
    const project = await sessions.projectOf(id) ?? "";
    const refusal = budgets.admitBatch(project);
    if (refusal) return refuse(c, project, refusal);
    let body = early;
    if (body === undefined) {
      const read = await readJsonBodySized(c.req.raw, limits);
      budgets.chargeInflated(project, read.bytes);
      body = read.value as Record<string, unknown> | null;
    }
    const { writerId, seq, sentAt } = body ?? {};
    if (typeof writerId !== "string" || !WRITER_ID.test(writerId)) {
      return jsonError(c, 422, "invalid_batch", "writerId must be 1–64 letters, digits, - or _");
    }
    if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 0) {
      return jsonError(c, 422, "invalid_batch", "seq must be a non-negative integer");
    }
    const events = validateEvents(body?.events, config.maxEventsPerBatch);
    const { storedBytes } = await sessions.appendEvents(id, {
      writerId,
      batch: seq,
      events,
      sentAt: typeof sentAt === "number" && Number.isFinite(sentAt) ? sentAt : undefined,
    });
    budgets.chargeStored(project, storedBytes);
    deps.metrics?.recordBatch(events.length, Number(c.req.header("content-length") ?? 0));
    deps.assets?.observe(id, events);
    const refreshed = tokens.needsRefresh(expiresAt) ? await tokens.issue(id) : undefined;
    return c.json({ ok: true, watched: sessions.isWatched(id), ...(refreshed ? { token: refreshed } : {}) });
  });

  app.post("/:id/stop", async (c) => {
    const auth = await authorize(c, bearerToken(c), tokens, perSession);
    if (auth instanceof Response) return auth;
    const end = await sessions.stop(auth.id, "stop");
    return c.json({ ok: true, stopped: end !== undefined });
  });

  app.onError((error, c) => ingestError(c, error));
  return app;
}

/** Session id, token and per-session rate limit, in that order: the session a request may write to, or why not. */
async function authorize(
  c: Context,
  token: string | undefined,
  tokens: AppendTokens,
  perSession: RateLimiter,
): Promise<{ id: string; expiresAt: number } | Response> {
  const id = c.req.param("id");
  if (!isSessionId(id)) return jsonError(c, 400, "invalid_session_id", "not a session id");
  if (c.req.query("token") !== undefined) {
    // Query strings end up in proxy and access logs: a token there is refused, not used.
    return jsonError(c, 401, "token_in_query", "send the append token as Authorization: Bearer …, never in the URL");
  }
  const check = await tokens.check(token, id);
  if (!check.ok) {
    const status = check.problem === "wrong_session" ? 403 : 401;
    return jsonError(c, status, `token_${check.problem}`, tokenMessage[check.problem]);
  }
  const decision = perSession.take(id);
  if (!decision.ok) return rateLimited(c, decision.retryAfterSecs);
  return { id, expiresAt: check.expiresAt };
}

/** The append token of an `Authorization: Bearer …` header. */
function bearerToken(c: Context): string | undefined {
  const header = c.req.header("authorization");
  return header?.startsWith("Bearer ") ? header.slice(7).trim() : undefined;
}

const tokenMessage = {
  missing: "an append token is required (Authorization: Bearer …, or `token` in a keepalive body)",
  malformed: "the append token is malformed",
  forged: "the append token's signature is not valid",
  expired: "the append token has expired; resume the session for a new one",
  wrong_session: "the append token belongs to another session",
};

function rateLimited(c: Context, retryAfterSecs: number): Response {
  c.header("Retry-After", String(retryAfterSecs));
  return jsonError(c, 429, "rate_limited", "too many requests; retry later");
}

/** Maps errors thrown by the handlers to JSON errors with the right status. */
export function ingestError(c: Context, error: Error): Response {
  if (error instanceof BodyError) return jsonError(c, error.status, error.code, error.message);
  if (error instanceof EventValidationError) {
    return jsonError(c, error.code === "too_many_events" ? 413 : 422, error.code, error.message);
  }
  if (error instanceof SessionStoppedError) return jsonError(c, 409, "session_stopped", "this session has ended");
  if (error instanceof SessionNotFoundError) return jsonError(c, 404, "session_not_found", "no such session");
  if (error instanceof StoreError && (error.code === "unavailable" || error.code === "timeout")) {
    log.warn("store unavailable", { route: c.req.routePath, code: error.code }, error);
    c.header("Retry-After", "2");
    return jsonError(c, 503, "store_unavailable", "the session store is unavailable; retry shortly");
  }
  log.error("ingest failed", { route: c.req.routePath }, error);
  return jsonError(c, 500, "internal", "internal error");
}
