/**
 * `/mcp`: the MCP tools over streamable HTTP (stateless: one server and
 * transport per request, JSON answers), behind a read token (not of the ops
 * scope), the admin token or the dashboard login, as the read API is. The
 * tools call the app in-process with the caller's own Authorization header,
 * so they read exactly what that token may read.
 *
 * @module
 */

import { Hono } from "hono";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { type DashboardAuth, readTokenRefusal } from "../lib/auth/dashboard.ts";
import { jsonError } from "../lib/http/errors.ts";
import { BodyError, readBody } from "../lib/http/body.ts";
import { Api } from "../client/api.ts";
import { createMcpServer } from "../client/mcp_tools.ts";

/** Requests to the app itself, with the environment Deno.serve gave this request (the client address). */
export type AppFetch = (request: Request, env: unknown) => Response | Promise<Response>;

/** An MCP request is one small JSON-RPC message (tool name and arguments). */
const MAX_BODY_BYTES = 64 * 1024;

/** The `/mcp` route; `timeoutMs` bounds the wait for a request body. */
export function mcpRoutes(auth: DashboardAuth, appFetch: AppFetch, timeoutMs: number): Hono {
  const app = new Hono();
  // Stateless: no session to resume (GET) or end (DELETE).
  app.on(["GET", "DELETE", "PUT", "PATCH"], "/", (c) => {
    c.header("Allow", "POST");
    return jsonError(c, 405, "method_not_allowed", "MCP over streamable HTTP here is stateless: POST only");
  });
  app.post("/", async (c) => {
    const viewer = await auth.viewer(c);
    if (!viewer.authenticated && !viewer.readToken) {
      if (viewer.retryAfterSecs !== undefined) {
        c.header("Retry-After", String(viewer.retryAfterSecs));
        return jsonError(c, 429, "too_many_attempts", "too many wrong tokens; retry later");
      }
      return jsonError(c, 401, "login_required", "send Authorization: Bearer <read token>");
    }
    // Refused here, not tool by tool: the tools read the API, which an ops token may not.
    const refused = viewer.readToken && readTokenRefusal(viewer.readToken, "api", "GET");
    if (refused) return jsonError(c, 403, refused.code, refused.message);
    const authorization = c.req.header("authorization");
    const cookie = c.req.header("cookie");
    const host = c.req.header("host");
    const api = new Api({
      url: new URL(c.req.url).origin,
      fetch: (request) => {
        if (authorization) request.headers.set("authorization", authorization);
        if (cookie) request.headers.set("cookie", cookie);
        if (host) request.headers.set("host", host); // the Host guard sees the caller's
        return Promise.resolve(appFetch(request, c.env));
      },
    });
    let parsedBody: unknown;
    try {
      parsedBody = JSON.parse(
        new TextDecoder().decode(await readBody(c.req.raw, { maxBytes: MAX_BODY_BYTES, timeoutMs })),
      );
    } catch (error) {
      if (error instanceof BodyError) return jsonError(c, error.status, error.code, error.message);
      return jsonError(c, 400, "invalid_json", "the body is not JSON");
    }
    const server = createMcpServer(api);
    const transport = new WebStandardStreamableHTTPServerTransport({ enableJsonResponse: true });
    await server.connect(transport);
    try {
      return await transport.handleRequest(c.req.raw, { parsedBody });
    } finally {
      // The answer is whole (JSON mode); nothing stays open.
      await server.close();
    }
  });
  return app;
}
