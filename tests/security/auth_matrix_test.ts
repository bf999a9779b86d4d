/**
 * Finding 9: who may call what, as one table. Every route the router
 * registers (read from the real app's `app.routes`, not from a list kept by
 * hand) is called with every method and every kind of credential, with real
 * ids for its parameters, and its answer must match {@link ACCESS}: allowed
 * callers get a 2xx or 3xx that is not the login form, refused ones 401, 403,
 * 429 or the login form, and a method the route does not serve answers no
 * one with a 2xx. A route without an entry in the table fails the test:
 * adding one means deciding who may call it.
 */

import assert from "node:assert/strict";
import type { Hono } from "hono";
import { AssetStore } from "../../lib/assets/store.ts";
import { readManifest } from "../../lib/islands/manifest.ts";
import { fakeEvents, fetchWhole, type StartedSession, startSession } from "../support/client.ts";
import { ADMIN, login } from "../support/login.ts";
import { mintToken, tokensCsrf } from "../support/read_tokens.ts";
import { serverTest, type ServerUnderTest, TEST_KEY, TEST_ORIGIN } from "../support/server.ts";

/** Every kind of caller. */
const CREDENTIALS = [
  "none",
  "ingestKey",
  "appendToken",
  "readToken",
  "deleteToken",
  "opsToken",
  "cookie",
  "adminBearer",
] as const;
type Credential = typeof CREDENTIALS[number];

const ANYONE = CREDENTIALS;
/** The dashboard login, by cookie or the admin token as a bearer. */
const ADMIN_ONLY: readonly Credential[] = ["cookie", "adminBearer"];
/** Forms that change state take the cookie's CSRF token, which only a cookie has. */
const COOKIE_ONLY: readonly Credential[] = ["cookie"];
const READERS: readonly Credential[] = [...ADMIN_ONLY, "readToken", "deleteToken"];
/** A DELETE needs the cookie's CSRF token or a token of the delete scope (the admin bearer has no CSRF token). */
const DELETERS: readonly Credential[] = ["cookie", "deleteToken"];
const OPS: readonly Credential[] = [...ADMIN_ONLY, "opsToken"];
/** A route that answers every caller the same refusal (405). */
const NO_ONE: readonly Credential[] = [];

/**
 * Who may call each route, by its pattern as the router has it and its method. HEAD is GET's (Hono serves
 * it with the GET handler). Methods a route does not register are tried too: they must answer no one 2xx.
 */
const ACCESS: Record<string, Partial<Record<string, readonly Credential[]>>> = {
  // Operations: the admin or a token of the ops scope (REPLAYA_PUBLIC_OPS makes them public: tested below).
  "/api/health": { GET: OPS },
  "/metrics": { GET: OPS },
  "/healthz": { GET: ANYONE },
  "/api/openapi.json": { GET: ANYONE },
  // What visitors' sites load.
  "/recorder.js": { GET: ANYONE },
  "/recorder/:name": { GET: ANYONE },
  "/static/*": { GET: ANYONE },
  // Ingest: the project key starts a session, its append token writes to it; any site may preflight.
  "/api/sessions": { POST: ["ingestKey"], OPTIONS: ANYONE, GET: READERS },
  "/api/sessions/:id/events": { POST: ["appendToken"], OPTIONS: ANYONE, GET: READERS },
  "/api/sessions/:id/stop": { POST: ["appendToken"], OPTIONS: ANYONE },
  // The read API.
  "/api/sessions/feed": { GET: READERS },
  "/api/sessions/:id": { GET: READERS, DELETE: DELETERS },
  "/api/sessions/:id/live": { GET: READERS },
  "/api/sessions/:id/export": { GET: READERS },
  "/api/sessions/:id/report": { GET: READERS },
  "/api/sessions/:id/report.md": { GET: READERS },
  "/api/sessions/:id/assets": { GET: READERS },
  "/api/assets/:hash": { GET: READERS },
  "/api/wall": { GET: READERS },
  "/mcp": { POST: READERS, GET: NO_ONE, DELETE: NO_ONE, PUT: NO_ONE, PATCH: NO_ONE },
  // The dashboard: pages for the login, forms for the cookie (CSRF).
  "/login": { GET: ANYONE, POST: ANYONE }, // the form's token is the credential
  "/logout": { POST: COOKIE_ONLY },
  "/settings/tokens": { GET: ADMIN_ONLY, POST: COOKIE_ONLY },
  "/settings/tokens/:id/revoke": { POST: COOKIE_ONLY },
  "/": { GET: ADMIN_ONLY },
  "/live": { GET: ADMIN_ONLY },
  "/sessions/:id": { GET: ADMIN_ONLY },
  "/sessions/:id/delete": { GET: ADMIN_ONLY, POST: COOKIE_ONLY },
  "/setup": { GET: ADMIN_ONLY },
  "/setup/test": { GET: ADMIN_ONLY },
  "/setup/test-init.js": { GET: ADMIN_ONLY },
};

/** `app.use` middleware (method ALL): not routes of their own, but an unknown one may be an `app.all` route. */
const MIDDLEWARE = new Set([
  "/*",
  "/recorder.js",
  "/recorder/*",
  "/api/assets/*",
  "/api/health",
  "/metrics",
  "/api/sessions/*",
  "/api/wall/*",
  "/settings/tokens/*",
]);

/** Requests that end what they act on get their own session and cookie: the next caller's answer is no 404. */
const CONSUMING = new Set([
  "POST /api/sessions/:id/stop",
  "DELETE /api/sessions/:id",
  "POST /sessions/:id/delete",
  "POST /logout",
]);

/** The methods every route is tried with, beside those it registers. */
const METHODS = ["GET", "HEAD", "POST", "DELETE", "OPTIONS"];

/** What the requests need: one of everything, real. */
interface Fixture {
  session: StartedSession;
  cookie: { cookie: string; csrf: string };
  tokens: Record<"readToken" | "deleteToken" | "opsToken", string>;
  /** A token to revoke (not one the matrix uses). */
  spareTokenId: string;
  assetHash: string;
  recorderName: string;
}

/** Each kind of caller comes from its own address, so one's wrong guesses never throttle another. */
const ADDRESS = Object.fromEntries(CREDENTIALS.map((c, i) => [c, `203.0.113.${i + 1}`])) as Record<Credential, string>;

async function cookieLogin(url: string): Promise<Fixture["cookie"]> {
  const { cookie } = await login(url, ADMIN, "/");
  return { cookie: cookie!, csrf: await tokensCsrf(url, cookie!) };
}

async function fixture(server: ServerUnderTest): Promise<Fixture> {
  const { url } = server;
  const session = await startSession(url);
  const read = await mintToken(url, { name: "matrix read" });
  const del = await mintToken(url, { name: "matrix delete", scope: "delete" });
  const ops = await mintToken(url, { name: "matrix ops", scope: "ops" });
  const spare = await mintToken(url, { name: "spare" });
  const asset = await new AssetStore(server.store).put(new TextEncoder().encode("GIF89a"), "image/gif");
  const recorder = (await readManifest())?.recorder;
  if (!recorder?.startsWith("/recorder/")) throw new Error("no recorder build: run `deno task build` first");
  return {
    session,
    cookie: await cookieLogin(url),
    tokens: { readToken: read.token, deleteToken: del.token, opsToken: ops.token },
    spareTokenId: spare.id,
    assetHash: asset.hash,
    recorderName: recorder.slice("/recorder/".length),
  };
}

/** The route's pattern with real values for its parameters. */
function concrete(pattern: string, f: Fixture): string {
  const path = pattern
    .replace(/^\/settings\/tokens\/:id/, `/settings/tokens/${f.spareTokenId}`)
    .replace(":id", f.session.sessionId)
    .replace(":name", f.recorderName)
    .replace(":hash", f.assetHash)
    .replace(/^\/static\/\*$/, "/static/app.css");
  if (/[:*]/.test(path)) throw new Error(`${pattern}: no value for its parameters`);
  return path;
}

let seq = 0;

/** The request `credential` makes: its headers, and a body that would be accepted from the right caller. */
function request(method: string, pattern: string, credential: Credential, f: Fixture): RequestInit {
  // The login form is throttled per address, and by now the append token's has guessed wrong too often (it is
  // no admin token): the form's answer should say who may post it, not that.
  const from = pattern === "/login" ? `198.18.0.${CREDENTIALS.indexOf(credential) + 1}` : ADDRESS[credential];
  const headers: Record<string, string> = { "x-forwarded-for": from };
  const bearer = credential === "appendToken"
    ? f.session.token
    : credential === "readToken" || credential === "deleteToken" || credential === "opsToken"
    ? f.tokens[credential]
    : credential === "adminBearer"
    ? ADMIN
    : undefined;
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  if (credential === "ingestKey") headers["x-replaya-key"] = TEST_KEY;
  const csrf = credential === "cookie" ? f.cookie.csrf : "";
  if (credential === "cookie") {
    headers.cookie = f.cookie.cookie;
    headers["x-csrf-token"] = csrf;
  }
  if (method === "OPTIONS") {
    headers.origin = TEST_ORIGIN;
    headers["access-control-request-method"] = "POST";
  }
  const json = (value: unknown) => {
    headers["content-type"] = "application/json";
    return JSON.stringify(value);
  };
  let body: BodyInit | undefined;
  if (method === "POST" || method === "PUT" || method === "PATCH") {
    if (pattern === "/api/sessions") body = json({ meta: { url: "https://shop.example/", userAgent: "matrix" } });
    else if (pattern === "/api/sessions/:id/events") {
      body = json({ writerId: "matrix", seq: seq++, sentAt: Date.now(), events: fakeEvents(1) });
    } else if (pattern === "/api/sessions/:id/stop") body = json({});
    else if (pattern === "/mcp") {
      headers.accept = "application/json, text/event-stream";
      body = json({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: "2025-03-26", capabilities: {}, clientInfo: { name: "matrix", version: "0" } },
      });
    } else if (pattern === "/login") body = new URLSearchParams({ token: ADMIN, next: "/" });
    else if (pattern === "/settings/tokens") {
      body = new URLSearchParams({ csrf, name: "minted by the matrix", scope: "read", days: "7" });
    } else body = new URLSearchParams({ csrf });
  }
  return { method, headers, body, redirect: "manual" };
}

interface Answer {
  status: number;
  location: string;
}

/** Sends it and reads the answer whole, but for an event stream, which is only opened. */
async function send(url: string, init: RequestInit): Promise<Answer> {
  const res = await fetch(url, init);
  if (res.headers.get("content-type")?.startsWith("text/event-stream")) await res.body?.cancel();
  else await res.arrayBuffer();
  return { status: res.status, location: res.headers.get("location") ?? "" };
}

const isLoginForm = (res: Answer) => res.status === 303 && res.location.startsWith("/login?next=");
const refused = (res: Answer) => [401, 403, 429].includes(res.status) || isLoginForm(res);

/** Every (method, pattern) the router serves, and its middleware patterns. */
function routesOf(app: Hono): { routes: Map<string, Set<string>>; middleware: Set<string> } {
  const routes = new Map<string, Set<string>>();
  const middleware = new Set<string>();
  for (const { method, path } of app.routes) {
    if (method === "ALL") middleware.add(path);
    else routes.set(path, (routes.get(path) ?? new Set()).add(method));
  }
  return { routes, middleware };
}

serverTest(
  "security: every registered route × method × credential gets the access the table decides",
  async (server) => {
    const { routes, middleware } = routesOf(server.app);
    const undecided = [
      ...[...routes].flatMap(([path, methods]) =>
        [...methods].filter((m) => ACCESS[path]?.[m] === undefined).map((m) =>
          `route ${m} ${path} has no access decision`
        )
      ),
      ...[...middleware].filter((p) => !MIDDLEWARE.has(p)).map((p) =>
        `ALL ${p} has no access decision (a middleware? add it to MIDDLEWARE)`
      ),
    ];
    assert.deepEqual(undecided, [], "add each to ACCESS: who may call it?");
    const stale = Object.keys(ACCESS).filter((p) => !routes.has(p));
    assert.deepEqual(stale, [], "decided for routes the router no longer has");

    const shared = await fixture(server);
    const wrong: string[] = [];
    let requests = 0;
    for (const [pattern, registered] of routes) {
      const decided = ACCESS[pattern]!;
      for (const method of new Set([...METHODS, ...registered])) {
        const who = decided[method === "HEAD" ? "GET" : method];
        for (const credential of CREDENTIALS) {
          let f = shared;
          if (CONSUMING.has(`${method} ${pattern}`)) {
            f = { ...shared, session: await startSession(server.url), cookie: await cookieLogin(server.url) };
          }
          const res = await send(server.url + concrete(pattern, f), request(method, pattern, credential, f));
          requests++;
          const answer = `${res.status}${res.location ? ` → ${res.location}` : ""}`;
          const ok = who === undefined || who.length === 0
            ? (res.status >= 400 || isLoginForm(res)) && res.status < 500 // served to no one
            : who.includes(credential)
            ? res.status >= 200 && res.status < 400 && !isLoginForm(res)
            : refused(res);
          if (!ok) {
            const expected = who?.includes(credential) ? "allowed" : who?.length ? "refused" : "served to no one";
            wrong.push(`${method} ${pattern} as ${credential}: ${answer}, expected ${expected}`);
          }
        }
      }
    }
    assert.deepEqual(wrong, [], `${wrong.length} of ${requests} answers disagree with the table`);
    console.log(`${routes.size} routes, ${requests / CREDENTIALS.length} route × method pairs, ${requests} requests`);
  },
  { env: { REPLAYA_ADMIN_TOKEN: ADMIN, REPLAYA_TRUST_PROXY: "1" } },
);

serverTest("security: REPLAYA_PUBLIC_OPS opens the ops routes, and nothing else", async ({ url }) => {
  for (const path of ["/metrics", "/api/health"]) {
    const res = await fetchWhole(url + path);
    assert.equal(res.status, 200, path);
  }
  for (const path of ["/api/sessions", "/api/wall"]) {
    const res = await fetchWhole(url + path);
    assert.equal(res.status, 401, path);
  }
}, { env: { REPLAYA_ADMIN_TOKEN: ADMIN, REPLAYA_PUBLIC_OPS: "true" } });
