/**
 * The read tokens page, behind the dashboard login (never a read token):
 *
 * - `GET /settings/tokens`              the tokens (name, scope, created, expires, revoked) and a form to mint one
 * - `POST /settings/tokens`             mints one (CSRF); the answer shows the token, once
 * - `POST /settings/tokens/:id/revoke`  revokes one (CSRF), on every process
 *
 * @module
 */

import { Hono } from "hono";
import { type DashboardAuth, requireViewer, type Viewer } from "../lib/auth/dashboard.ts";
import {
  MAX_TOKEN_DAYS,
  READ_TOKEN_SCOPES,
  ReadTokenError,
  type ReadTokenInfo,
  type ReadTokens,
  type ReadTokenScope,
} from "../lib/auth/read_tokens.ts";
import { BodyError, readFormBody } from "../lib/http/body.ts";
import { jsonError } from "../lib/http/errors.ts";
import { Layout } from "../components/Layout.tsx";
import { ErrorPage } from "../components/ErrorPage.tsx";
import { html } from "./pages.tsx";

/** What the tokens page needs. */
export interface TokenPageDeps {
  auth: DashboardAuth;
  readTokens: ReadTokens;
  formLimits: { maxBytes: number; timeoutMs: number };
}

const EXPIRIES = [7, 30, 90, MAX_TOKEN_DAYS];
/** How the page names each scope. */
const SCOPE_LABELS: Record<ReadTokenScope, string> = {
  read: "read",
  delete: "read and delete",
  ops: "ops (/metrics and /api/health only)",
};

/** The tokens page routes, mounted at `/settings/tokens`. */
export function tokenPageRoutes({ auth, readTokens, formLimits }: TokenPageDeps): Hono {
  const app = new Hono();
  app.use("*", requireViewer(auth, "page"));
  const forbidden = (c: Parameters<typeof html>[0]) =>
    html(c, <ErrorPage title="Forbidden" message="The form expired; reload the page and try again." />, 403);

  app.get("/", (c) => {
    c.header("Cache-Control", "no-store");
    return html(c, <TokensPage viewer={c.get("viewer")} tokens={readTokens.list()} />);
  });

  app.post("/", async (c) => {
    const form = await readFormBody(c.req.raw, formLimits);
    if (!(await auth.checkCsrf(c, form.get("csrf") ?? ""))) return forbidden(c);
    const viewer = c.get("viewer");
    c.header("Cache-Control", "no-store");
    try {
      const { token, info } = await readTokens.mint({
        name: form.get("name") ?? "",
        scope: (form.get("scope") ?? "read") as ReadTokenScope, // checked by mint
        days: Number(form.get("days") ?? 90),
      });
      return html(c, <TokensPage viewer={viewer} tokens={readTokens.list()} minted={{ token, info }} />);
    } catch (error) {
      if (!(error instanceof ReadTokenError)) throw error;
      return html(c, <TokensPage viewer={viewer} tokens={readTokens.list()} error={error.message} />, 400);
    }
  });

  app.post("/:id/revoke", async (c) => {
    const form = await readFormBody(c.req.raw, formLimits);
    if (!(await auth.checkCsrf(c, form.get("csrf") ?? ""))) return forbidden(c);
    if (!(await readTokens.revoke(c.req.param("id")))) {
      return html(c, <ErrorPage title="Not found" message="No such token." />, 404);
    }
    return c.redirect("/settings/tokens", 303);
  });

  app.onError((error, c) => {
    if (error instanceof BodyError) return jsonError(c, error.status, error.code, error.message);
    throw error;
  });
  return app;
}

function TokensPage(
  { viewer, tokens, minted, error }: {
    viewer: Viewer;
    tokens: ReadTokenInfo[];
    minted?: { token: string; info: ReadTokenInfo };
    error?: string;
  },
) {
  const csrf = viewer.csrf;
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  return (
    <Layout title="API tokens" active="tokens" logout={viewer.loginRequired ? { csrf } : undefined}>
      <h1>API tokens</h1>
      <p class="muted">
        Read tokens let the CLI (<code>deno task cli</code>), the MCP server and scrapers read the JSON API with{" "}
        <code>Authorization: Bearer &lt;token&gt;</code>. They open no dashboard page and cannot record; the{" "}
        <em>read and delete</em> scope may also delete sessions. The <em>ops</em> scope is for monitoring: it reads{" "}
        <code>/metrics</code> and <code>/api/health</code>{" "}
        and nothing else (the other scopes cannot read those). Only a hash is stored: copy a token when it is shown.
      </p>
      {minted && (
        <p class="notice" data-testid="minted-token">
          New token <strong>{minted.info.name}</strong> (shown once): <code class="key">{minted.token}</code>
        </p>
      )}
      {error && <p class="error" role="alert">{error}</p>}
      <form method="post" action="/settings/tokens" class="confirm" data-testid="mint-form">
        <input type="hidden" name="csrf" value={csrf} />
        <label>
          Name <input name="name" required maxLength={80} placeholder="ci-reports" />
        </label>{" "}
        <label>
          Scope{" "}
          <select name="scope">
            {READ_TOKEN_SCOPES.map((scope) => <option key={scope} value={scope}>{SCOPE_LABELS[scope]}</option>)}
          </select>
        </label>{" "}
        <label>
          Expires in{" "}
          <select name="days">
            {EXPIRIES.map((d) => <option key={d} value={String(d)} selected={d === 90}>{d} days</option>)}
          </select>
        </label>{" "}
        <button type="submit">Create token</button>
      </form>
      <table class="sessions" data-testid="tokens">
        <thead>
          <tr>
            <th>Name</th>
            <th>Scope</th>
            <th>Created</th>
            <th>Expires</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          {tokens.map((t) => (
            <tr key={t.id} data-token-id={t.id}>
              <td>{t.name}</td>
              <td>{SCOPE_LABELS[t.scope]}</td>
              <td>{day(t.createdAt)}</td>
              <td>{day(t.expiresAt)}</td>
              <td>
                {t.revokedAt !== undefined
                  ? <span class="muted">revoked {day(t.revokedAt)}</span>
                  : (
                    <form method="post" action={`/settings/tokens/${t.id}/revoke`}>
                      <input type="hidden" name="csrf" value={csrf} />
                      <button type="submit" class="danger">Revoke</button>
                    </form>
                  )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Layout>
  );
}
