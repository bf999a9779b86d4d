/**
 * Read-side access control: one admin token from the environment, a login
 * form that trades it for a signed HttpOnly SameSite=Strict cookie, and CSRF
 * tokens bound to that cookie for state-changing forms (delete, logout).
 * With no admin token the server only listens on loopback, and everyone who
 * can reach it is the admin.
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { clientKey, isHttps } from "../http/client.ts";
import { base64url } from "../bytes.ts";
import { Hmac } from "./hmac.ts";
import { LoginThrottle } from "./login_throttle.ts";
import type { Revocations } from "./revocations.ts";
import { READ_TOKEN_PREFIX, type ReadTokenInfo, type ReadTokens } from "./read_tokens.ts";

declare module "hono" {
  interface ContextVariableMap {
    /** Set by {@link requireViewer}. */
    viewer: Viewer;
  }
}

/** The session cookie's name. */
export const COOKIE = "replaya_session";
/** A login lasts a working day; logout ends it everywhere at once. */
export const COOKIE_MAX_AGE_SECS = 12 * 3600;

/** The login state of a request. */
export interface Viewer {
  /** Whether login is required at all (an admin token is configured). */
  loginRequired: boolean;
  /** Whether this request may read. */
  authenticated: boolean;
  /** Token for forms that change state; empty when logged out. */
  csrf: string;
  /** Set when a bearer token was not even checked because this client failed too often. */
  retryAfterSecs?: number;
  /**
   * A valid read token (`Authorization: Bearer rpt_…`). It leaves `authenticated` false: it opens no page
   * and no form, only what {@link requireViewer} lets through for it (GET on the API, delete with its scope).
   */
  readToken?: ReadTokenInfo;
}

/** Issues and checks dashboard cookies and CSRF tokens. */
export class DashboardAuth {
  readonly loginRequired: boolean;
  #adminToken?: string;
  #cookies: Hmac;
  #csrf: Hmac;
  #compare: Hmac;
  #now: () => number;
  #proxyHops: number;
  #revocations?: Revocations;
  #readTokens?: ReadTokens;
  /** Failed admin-token attempts (form or bearer), per client and overall. */
  readonly throttle: LoginThrottle;

  constructor(
    options: {
      adminToken?: string;
      secret: string;
      proxyHops?: number;
      revocations?: Revocations;
      readTokens?: ReadTokens;
      now?: () => number;
    },
  ) {
    this.#readTokens = options.readTokens;
    this.#adminToken = options.adminToken;
    this.#proxyHops = options.proxyHops ?? 0;
    this.#revocations = options.revocations;
    this.throttle = new LoginThrottle({ now: options.now });
    this.loginRequired = options.adminToken !== undefined;
    // Keys depend on the admin token too, so rotating it logs everyone out.
    const key = `${options.secret}:${options.adminToken ?? ""}`;
    this.#cookies = new Hmac(`dashboard-cookie:${key}`);
    this.#csrf = new Hmac(`dashboard-csrf:${key}`);
    this.#compare = new Hmac(`dashboard-compare:${key}`);
    this.#now = options.now ?? Date.now;
  }

  /** Constant-time check of a submitted admin token. */
  async checkAdminToken(candidate: string): Promise<boolean> {
    if (!this.#adminToken) return false;
    const [a, b] = await Promise.all([this.#compare.sign(candidate), this.#compare.sign(this.#adminToken)]);
    return a.length === b.length && a === b;
  }

  /** The key login failures are counted under: the address, or an IPv6 client's /64. */
  client(c: Context): string {
    return clientKey(c, this.#proxyHops);
  }

  /** Sets the session cookie after a successful login. */
  async login(c: Context): Promise<void> {
    const expires = Math.floor(this.#now() / 1000) + COOKIE_MAX_AGE_SECS;
    const nonce = base64url(crypto.getRandomValues(new Uint8Array(16)));
    const payload = `${expires}.${nonce}`;
    setCookie(c, COOKIE, `${payload}.${await this.#cookies.sign(payload)}`, {
      httpOnly: true,
      sameSite: "Strict",
      // Behind a TLS-terminating proxy the request itself is plain HTTP.
      secure: isHttps(c, this.#proxyHops),
      path: "/",
      maxAge: COOKIE_MAX_AGE_SECS,
    });
  }

  /** Clears the session cookie and revokes it, so a copy of it is refused too. */
  async logout(c: Context): Promise<void> {
    const nonce = await this.#validCookie(getCookie(c, COOKIE));
    if (nonce) await this.#revocations?.revoke(nonce);
    deleteCookie(c, COOKIE, { path: "/" });
  }

  /**
   * Who is asking: a valid cookie, an `Authorization: Bearer <admin token>` (scrapers), a read token, or open
   * loopback. Every wrong bearer value counts as a failed attempt.
   */
  async viewer(c: Context): Promise<Viewer> {
    if (!this.loginRequired) return { loginRequired: false, authenticated: true, csrf: await this.#csrf.sign("open") };
    const nonce = await this.#validCookie(getCookie(c, COOKIE));
    if (nonce) return { loginRequired: true, authenticated: true, csrf: await this.#csrf.sign(nonce) };
    const bearer = c.req.header("authorization")?.match(/^Bearer (.+)$/)?.[1];
    // A live read token passes even while this client is throttled: 256 random bits cannot be guessed, and
    // the check says nothing about the admin token. A wrong one goes on to count as a failed attempt.
    if (bearer?.startsWith(READ_TOKEN_PREFIX) && this.#readTokens) {
      const readToken = await this.#readTokens.check(bearer);
      if (readToken) return { loginRequired: true, authenticated: false, csrf: "", readToken };
    }
    const outcome = bearer ? await this.attempt(c, bearer) : "wrong";
    if (outcome === "ok") return { loginRequired: true, authenticated: true, csrf: "" };
    return { loginRequired: true, authenticated: false, csrf: "", ...(outcome === "wrong" ? {} : outcome) };
  }

  /**
   * Checks an admin token from this client, counting failures: once a client
   * (or everyone together) has failed too often, every attempt is refused
   * until the throttle says otherwise, right or wrong.
   */
  async attempt(c: Context, candidate: string): Promise<"ok" | "wrong" | { retryAfterSecs: number }> {
    const client = this.client(c);
    const blocked = this.throttle.blocked(client);
    if (blocked) return blocked;
    if (await this.checkAdminToken(candidate)) {
      this.throttle.succeed(client);
      return "ok";
    }
    this.throttle.fail(client);
    return "wrong";
  }

  /**
   * Whether a submitted CSRF token matches this request's login. A read token with the `delete` scope needs
   * none: a bearer header is not an ambient credential a foreign page could make the browser send.
   */
  async checkCsrf(c: Context, submitted: string | undefined): Promise<boolean> {
    const viewer = await this.viewer(c);
    if (viewer.readToken?.scope === "delete" && c.req.method === "DELETE") return true;
    if (!submitted) return false;
    const expected = viewer.csrf;
    return expected !== "" && expected === submitted;
  }

  async #validCookie(value: string | undefined): Promise<string | undefined> {
    const parts = value?.split(".");
    if (!parts || parts.length !== 3) return undefined;
    const [expires, nonce, signature] = parts;
    if (!(await this.#cookies.verify(`${expires}.${nonce}`, signature))) return undefined;
    if (Number(expires) * 1000 < this.#now()) return undefined;
    if (this.#revocations?.has(nonce)) return undefined;
    return nonce;
  }
}

/**
 * What a route is, for {@link requireViewer}: a dashboard page (or form), the JSON read API, or an ops route
 * (`/metrics`, `/api/health`).
 */
export type RouteKind = "page" | "api" | "ops";

/**
 * Requires a logged-in viewer. Pages redirect to the login form; APIs get a
 * JSON 401. The viewer is stored on the context as `viewer`.
 */
export function requireViewer(auth: DashboardAuth, kind: RouteKind): MiddlewareHandler {
  return async (c, next) => {
    const viewer = await auth.viewer(c);
    c.set("viewer", viewer);
    if (viewer.authenticated) return await next();
    if (viewer.readToken) {
      const refused = readTokenRefusal(viewer.readToken, kind, c.req.method);
      if (!refused) return await next();
      return c.json({ error: refused }, 403);
    }
    if (viewer.retryAfterSecs !== undefined) {
      c.header("Retry-After", String(viewer.retryAfterSecs));
      return c.json({ error: { code: "too_many_attempts", message: "too many wrong tokens; retry later" } }, 429);
    }
    if (kind !== "page") {
      const message = c.req.header("authorization")
        ? "that token is not valid (revoked, expired or mistyped)"
        : "log in to the dashboard first, or send Authorization: Bearer <read token>";
      return c.json({ error: { code: "login_required", message } }, 401);
    }
    const next_ = new URL(c.req.url);
    return c.redirect(`/login?next=${encodeURIComponent(next_.pathname + next_.search)}`, 303);
  };
}

/**
 * Why a read token may not make this request, or undefined when it may. Scopes `read` and `delete` read the
 * API (GET, HEAD), `delete` also DELETEs (the routes say on what); scope `ops` reads the ops routes only, and
 * only it does, so a scraper's token reads no recording and an agent's token sees no operations data.
 */
export function readTokenRefusal(
  token: ReadTokenInfo,
  kind: RouteKind,
  method: string,
): { code: string; message: string } | undefined {
  if (kind === "page") {
    return { code: "read_only_token", message: "a read token opens no page and no form: log in to the dashboard" };
  }
  if ((token.scope === "ops") !== (kind === "ops")) {
    const message = token.scope === "ops"
      ? "a token of the ops scope may only read /metrics and /api/health"
      : "/metrics and /api/health need a token of the ops scope";
    return { code: "token_scope", message };
  }
  if (method === "GET" || method === "HEAD" || (method === "DELETE" && token.scope === "delete")) return undefined;
  return { code: "read_only_token", message: "a read token may only read the API (and delete with its scope)" };
}
