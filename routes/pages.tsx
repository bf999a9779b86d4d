/**
 * The dashboard's server-rendered pages:
 *
 * - `/`                    session list, newest first, cursor-paged, filtered by a GET form
 * - `/live`                the live wall: every live session as a small live replay (filters: user, source, URL)
 * - `/sessions/:id`        metadata, the player island (live-tailing while active), export, delete
 * - `/sessions/:id/delete` confirmation form (POST deletes, with CSRF)
 * - `/setup`               the snippet for this server; in development, a page that records a test session
 * - `/login`, `/logout`
 *
 * @module
 */

import { isLoopbackHost } from "../shared/intranet.ts";
import { log } from "../lib/log.ts";
import { type Context, Hono } from "hono";
import type { VNode } from "preact";
import { renderToString } from "preact-render-to-string";
import { type DashboardAuth, requireViewer } from "../lib/auth/dashboard.ts";
import type { Manifest } from "../lib/islands/manifest.ts";
import { filterFromQuery, isFiltered, listSessions, sortFromQuery } from "../lib/sessions/list.ts";
import { isSessionId } from "../lib/sessions/ids.ts";
import type { Sessions } from "../lib/sessions/service.ts";
import { describeAgent } from "../lib/sessions/summaries.ts";
import { BodyError, readFormBody } from "../lib/http/body.ts";
import { jsonError } from "../lib/http/errors.ts";
import { StoreError } from "../lib/store/mod.ts";
import { Layout } from "../components/Layout.tsx";
import { Island } from "../components/Island.tsx";
import { SORT_KEYS, type SortKey } from "../components/SessionRow.tsx";
import { Filters } from "../components/Filters.tsx";
import { cachedReport } from "../lib/sessions/report.ts";
import { SessionHeader } from "../components/SessionHeader.tsx";
import { ErrorPage } from "../components/ErrorPage.tsx";
import LiveSessions from "../islands/LiveSessions.tsx";
import LiveWall from "../islands/LiveWall.tsx";
import Player from "../islands/Player.tsx";
import Setup from "../islands/Setup.tsx";

/** What the pages need. */
export interface PageDeps {
  sessions: Sessions;
  auth: DashboardAuth;
  manifest: () => Manifest;
  projectKey: string;
  mode: "production" | "development";
  /** Limits for the dashboard's small forms (login, logout, delete). */
  formLimits: { maxBytes: number; timeoutMs: number };
}

/** Renders a page to an HTML response. */
export function html(c: Context, page: VNode, status: 200 | 400 | 403 | 404 | 429 | 500 | 503 = 200): Response {
  return c.html("<!doctype html>" + renderToString(page), status);
}

/** The page routes. */
export function pageRoutes(deps: PageDeps): Hono {
  const app = new Hono();
  const kit = pageKit(deps);
  loginPages(app, deps);
  app.use("*", async (c, next) => {
    const path = new URL(c.req.url).pathname;
    if (path === "/login") return await next();
    return await requireViewer(deps.auth, "page")(c, next);
  });
  listPages(app, deps, kit);
  sessionPages(app, deps, kit);
  setupPages(app, deps, kit);
  return app;
}

/** What every page handler uses: the build's bundles for an island, and the logout form of the viewer. */
interface PageKit {
  island(name: string): string;
  imports(name: string): string[];
  /** The island's companion script (none, or one): preloaded first, run right after the island's markup. */
  earlyScripts(name: string): string[];
  /** Set while a development server is still building the island bundles (or failed to). */
  bundles(): Manifest["pending"];
  logoutOf(c: Context): { csrf: string } | undefined;
}

function pageKit(deps: PageDeps): PageKit {
  return {
    island: (name) => deps.manifest().islands[name],
    imports: (name) => deps.manifest().imports?.[name] ?? [],
    earlyScripts: (name) => {
      const src = deps.manifest().early?.[name];
      return src ? [src] : [];
    },
    bundles: () => deps.manifest().pending,
    logoutOf: (c) => {
      const viewer = c.get("viewer");
      return viewer.loginRequired ? { csrf: viewer.csrf } : undefined;
    },
  };
}

/** The login form, its post, and logout: reachable without a login. */
function loginPages(app: Hono, deps: PageDeps): void {
  const { auth } = deps;
  app.get("/login", async (c) => {
    if (!auth.loginRequired || (await auth.viewer(c)).authenticated) {
      return c.redirect(safeNext(c.req.query("next")), 303);
    }
    return html(c, <LoginPage next={safeNext(c.req.query("next"))} />);
  });

  app.post("/login", async (c) => {
    const form = await readFormBody(c.req.raw, deps.formLimits);
    const next = safeNext(form.get("next") ?? "/");
    if (!auth.loginRequired) return c.redirect(next, 303);
    const outcome = await auth.attempt(c, form.get("token") ?? "");
    if (outcome === "wrong") return html(c, <LoginPage next={next} error="That token is not right." />, 403);
    if (outcome !== "ok") {
      c.header("Retry-After", String(outcome.retryAfterSecs));
      const wait = `Too many wrong tokens. Try again in ${outcome.retryAfterSecs} s.`;
      return html(c, <LoginPage next={next} error={wait} />, 429);
    }
    await auth.login(c);
    return c.redirect(next, 303);
  });

  app.post("/logout", async (c) => {
    const form = await readFormBody(c.req.raw, deps.formLimits);
    if (!(await auth.checkCsrf(c, form.get("csrf") ?? ""))) {
      return html(c, <ErrorPage title="Forbidden" message="The form expired; reload the page and try again." />, 403);
    }
    await auth.logout(c);
    return c.redirect("/login", 303);
  });
}

/** The session list and the live wall. */
function listPages(app: Hono, deps: PageDeps, kit: PageKit): void {
  const { sessions } = deps;
  const { island, imports, bundles, logoutOf } = kit;
  app.get("/", async (c) => {
    const filter = filterFromQuery(c.req.query());
    const cursor = c.req.query("cursor");
    const sortParam = c.req.query("sort") as SortKey | undefined;
    const sort = sortParam && SORT_KEYS.includes(sortParam) ? sortParam : "started";
    // Friction is ranked by the server over the sessions it scans; the other sorts order the rows shown.
    const page = await listSessions(sessions, { filter, cursor, limit: 50, sort: sortFromQuery(c.req.query()) });
    const query = new URLSearchParams(Object.entries(c.req.query()).filter(([k, v]) => k !== "cursor" && v));
    const nextHref = page.next ? `/?${new URLSearchParams([...query, ["cursor", page.next]])}` : undefined;
    const liveOn = !cursor && !isFiltered(filter) && sort !== "friction";
    const pageQuery = new URLSearchParams(Object.entries(c.req.query()).filter(([k, v]) => k !== "sort" && v));
    const empty = page.rows.length === 0 && !page.stoppedEarly;
    return html(
      c,
      <Layout
        title="Sessions"
        active="sessions"
        scripts={[island("LiveSessions")]}
        preload={imports("LiveSessions")}
        bundles={bundles()}
        logout={logoutOf(c)}
      >
        <h1>Sessions</h1>
        <Filters values={c.req.query()} />
        <Island
          name="LiveSessions"
          component={LiveSessions}
          props={{ enabled: liveOn, rows: page.rows, sort, query: pageQuery.toString() }}
        />
        {empty && (
          <div class="empty" data-testid="empty">
            {isFiltered(filter) || cursor ? <p>No sessions match these filters.</p> : (
              <p>
                No sessions recorded yet. <a href="/setup">Add the recorder to your site</a>{" "}
                and they will appear here as they happen.
              </p>
            )}
          </div>
        )}
        {page.stoppedEarly && (
          <p class="notice" data-testid="stopped-early">
            Searched {page.scanned.toLocaleString("en")} summaries without filling the page.{" "}
            <a href={nextHref}>Continue searching older sessions</a>
          </p>
        )}
        {!page.stoppedEarly && nextHref && (
          <p class="pager">
            <a href={nextHref} data-testid="next-page">Older sessions →</a>
          </p>
        )}
      </Layout>,
    );
  });

  app.get("/live", (c) => {
    const query = c.req.query();
    const filter = filterFromQuery(query);
    const filters = { user: filter.userId, source: filter.source, url: filter.urlContains };
    return html(
      c,
      <Layout
        title="Live"
        active="live"
        scripts={[island("LiveWall")]}
        preload={imports("LiveWall")}
        bundles={bundles()}
        styles={["/static/player.css"]}
        logout={logoutOf(c)}
      >
        <h1>Live sessions</h1>
        <Filters values={query} action="/live" textOnly />
        <Island name="LiveWall" component={LiveWall} props={{ filters }} />
      </Layout>,
    );
  });
}

/** One session's page, and its delete confirmation and form. */
function sessionPages(app: Hono, deps: PageDeps, kit: PageKit): void {
  const { sessions, auth } = deps;
  const { island, imports, earlyScripts, bundles, logoutOf } = kit;
  app.get("/sessions/:id", async (c) => {
    const id = c.req.param("id");
    const details = isSessionId(id) ? await sessions.details(id) : undefined;
    if (!details) {
      return html(
        c,
        <Layout title="Not found" logout={logoutOf(c)}>
          <ErrorPage
            title="Session not found"
            message="It may have been deleted, or it expired under the retention policy."
          />
        </Layout>,
        404,
      );
    }
    // Only an already built report: the player asks for one after its first frame (see cachedReport).
    const report = cachedReport(sessions, id);
    // An ended session opens paused at its first frame, shown before the player's code has arrived; a live one
    // opens at its live edge, which only the player knows.
    // Loopback URLs stay for a dashboard opened on loopback, as in the player (islands/player/rrweb_player.ts).
    const allowLoopback = isLoopbackHost(new URL(c.req.url).hostname);
    const firstFrame = details.live
      ? undefined
      : await sessions.firstFrame(id, { allowLoopback }).catch(() => undefined);
    return html(
      c,
      <Layout
        title="Session"
        scripts={[island("Player")]}
        preload={imports("Player")}
        early={earlyScripts("Player")}
        bundles={bundles()}
        styles={["/static/player.css"]}
        logout={logoutOf(c)}
      >
        <SessionHeader
          meta={details.meta}
          live={details.live}
          disconnected={details.disconnected}
          end={details.end}
          agent={describeAgent(details.meta.userAgent)}
        />
        <Island
          name="Player"
          component={Player}
          props={{
            sessionId: id,
            live: details.live,
            startedAt: details.meta.createdAt,
            report,
          }}
          serverProps={{ firstFrame }}
        />
        {earlyScripts("Player").map((src) => <script key={src} src={src} />)}
      </Layout>,
    );
  });

  app.get("/sessions/:id/delete", (c) => {
    const id = c.req.param("id");
    if (!isSessionId(id)) return html(c, <ErrorPage title="Not found" message="No such session." />, 404);
    const viewer = c.get("viewer");
    return html(
      c,
      <Layout title="Delete session" logout={logoutOf(c)}>
        <h1>Delete this session?</h1>
        <p>The recording is removed from the store for good. This cannot be undone.</p>
        <form method="post" action={`/sessions/${id}/delete`} class="confirm">
          <input type="hidden" name="csrf" value={viewer.csrf} />
          <button type="submit" class="danger" data-testid="confirm-delete">Delete session</button>{" "}
          <a href={`/sessions/${id}`}>Cancel</a>
        </form>
      </Layout>,
    );
  });

  app.post("/sessions/:id/delete", async (c) => {
    const id = c.req.param("id");
    if (!isSessionId(id)) return html(c, <ErrorPage title="Not found" message="No such session." />, 404);
    const form = await readFormBody(c.req.raw, deps.formLimits);
    if (!(await auth.checkCsrf(c, form.get("csrf") ?? ""))) {
      return html(c, <ErrorPage title="Forbidden" message="The form expired; reload the page and try again." />, 403);
    }
    await sessions.delete(id);
    return c.redirect("/", 303);
  });
}

/** The setup page, the test page and its script. */
function setupPages(app: Hono, deps: PageDeps, kit: PageKit): void {
  const { sessions } = deps;
  const { island, imports, bundles, logoutOf } = kit;
  app.get("/setup", async (c) => {
    const origin = new URL(c.req.url).origin;
    const newest = (await listSessions(sessions, { limit: 1 })).rows[0];
    const latest = newest && { id: newest.id, createdAt: newest.createdAt, url: newest.url };
    return html(
      c,
      <Layout
        title="Setup"
        active="setup"
        scripts={[island("Setup")]}
        preload={imports("Setup")}
        bundles={bundles()}
        logout={logoutOf(c)}
      >
        <h1>Record your site</h1>
        <Island
          name="Setup"
          component={Setup}
          props={{ endpoint: origin, projectKey: deps.projectKey, latest, testPage: deps.mode === "development" }}
        />
        <section class="setup-step">
          <h2>Details</h2>
          <p>
            Project key:{" "}
            <code class="key" data-testid="project-key">{deps.projectKey}</code>. It is public and write-only: it can
            start sessions, never read them. Inputs are masked by default; add the class <code>replaya-block</code>{" "}
            to hide an element, <code>replaya-mask</code> to mask its text.
          </p>
          <p class="muted" data-testid="package-note">
            Published form, once <code>@replaya/recorder</code>{" "}
            is on npm and JSR (it is not yet, so use the snippet above):{" "}
            <code>npm install @replaya/recorder</code>, then{" "}
            <code>
              {`import { init } from "@replaya/recorder"; init({ endpoint: "${origin}", projectKey: "${deps.projectKey}" });`}
            </code>
          </p>
        </section>
      </Layout>,
    );
  });

  app.get("/setup/test", (c) => {
    if (deps.mode !== "development") {
      return html(c, <ErrorPage title="Not found" message="Only in development." />, 404);
    }
    return html(
      c,
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <title>RePlaya test page</title>
          <link rel="stylesheet" href="/static/app.css" />
          <script src="/setup/test-init.js" />
          <script async src={deps.manifest().recorder} />
        </head>
        <body>
          <main>
            <h1>Test page</h1>
            <p>This page is being recorded. Click, type, scroll, then open the dashboard in another tab.</p>
            <p>
              <button type="button">A button to click</button>
            </p>
            <p>
              <label>
                A field (masked in the recording): <input name="secret" />
              </label>
            </p>
            <p>
              <a href="/" target="_blank">Open the dashboard</a>
            </p>
          </main>
        </body>
      </html>,
    );
  });

  app.get("/setup/test-init.js", (c) => {
    if (deps.mode !== "development") return c.text("", 404);
    const origin = new URL(c.req.url).origin;
    c.header("Content-Type", "application/javascript; charset=utf-8");
    c.header("Cache-Control", "no-store");
    return c.body(
      `window.replaya=window.replaya||function(){(replaya.q=replaya.q||[]).push(arguments)};replaya("init",${
        JSON.stringify({ endpoint: origin, projectKey: deps.projectKey, source: "replaya-test-page" })
      });\n`,
    );
  });

  app.onError((error, c) => {
    if (error instanceof BodyError) return jsonError(c, error.status, error.code, error.message);
    if (error instanceof StoreError && (error.code === "unavailable" || error.code === "timeout")) {
      log.warn("store unavailable", { route: c.req.routePath, code: error.code }, error);
      return html(
        c,
        <ErrorPage
          title="Store unavailable"
          message="The session store is not answering right now. Try again shortly."
        />,
        503,
      );
    }
    log.error("page failed", { route: c.req.routePath }, error);
    return html(c, <ErrorPage title="Something went wrong" message="The error was logged on the server." />, 500);
  });
}

function LoginPage({ next, error }: { next: string; error?: string }) {
  return (
    <Layout title="Log in">
      <form method="post" action="/login" class="login">
        <h1>Log in</h1>
        <p class="muted">Enter the admin token this server was started with (REPLAYA_ADMIN_TOKEN).</p>
        {error && <p class="error" role="alert">{error}</p>}
        <input type="hidden" name="next" value={next} />
        <label>
          Admin token <input type="password" name="token" autocomplete="current-password" required autofocus />
        </label>
        <button type="submit">Log in</button>
      </form>
    </Layout>
  );
}

const BASE = "http://replaya.invalid";

/**
 * A login redirect target: a path on this server, or "/". Control
 * characters, backslashes (browsers read them as slashes) and anything that
 * resolves to another origin (`//evil`, `/\tevil`) fall back to "/".
 */
export function safeNext(next: string | undefined): string {
  // deno-lint-ignore no-control-regex -- control characters are exactly what is refused
  if (!next?.startsWith("/") || next.startsWith("//") || /[\u0000-\u001f\u007f\\]/.test(next)) return "/";
  try {
    const url = new URL(next, BASE);
    return url.origin === BASE ? url.pathname + url.search + url.hash : "/";
  } catch {
    return "/";
  }
}
