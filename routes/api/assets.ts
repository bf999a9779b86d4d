/**
 * The asset cache's read side, behind the dashboard login (mounted at `/api`):
 *
 * - `GET /api/sessions/:id/assets`  the session's URL → cached asset map (and the URLs that could not be cached)
 * - `GET /api/assets/:hash`         one cached asset, by the SHA-256 of its bytes
 *
 * The replay loads assets as `<img>`, CSS images and fonts from the
 * dashboard's own origin (the replay's sandboxed iframe shares it), which
 * the Fetch Metadata edge allows for `/api/assets/<hash>` only. Responses are
 * immutable (content-addressed), typed as stored, never sniffed, and carry
 * {@link ASSET_CSP}: an SVG opened on its own runs nothing.
 *
 * @module
 */

import { Hono } from "hono";
import { type DashboardAuth, requireViewer } from "../../lib/auth/dashboard.ts";
import { jsonError } from "../../lib/http/errors.ts";
import { isSessionId } from "../../lib/sessions/ids.ts";
import { type AssetStore, HASH_PATTERN } from "../../lib/assets/store.ts";
import type { AssetCache } from "../../lib/assets/cache.ts";

/** The policy of every asset response (set in app.ts, after the app-wide headers). */
export const ASSET_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

/** The asset routes; `cache` is undefined when the cache is off (maps stored earlier are still served). */
export function assetRoutes(assets: AssetStore, cache: AssetCache | undefined, auth: DashboardAuth): Hono {
  const app = new Hono();
  const viewer = requireViewer(auth, "api");

  app.get("/sessions/:id/assets", viewer, async (c) => {
    const id = c.req.param("id");
    if (!isSessionId(id)) return jsonError(c, 400, "invalid_session_id", "not a session id");
    const map = await assets.sessionAssets(id);
    c.header("Cache-Control", "no-store");
    return c.json({ enabled: cache !== undefined, ...map });
  });

  app.get("/assets/:hash", viewer, async (c) => {
    const hash = c.req.param("hash");
    if (!HASH_PATTERN.test(hash)) return jsonError(c, 400, "invalid_hash", "not a SHA-256 in lowercase hex");
    const etag = `"${hash}"`;
    const cacheControl = "private, max-age=31536000, immutable";
    if (c.req.header("if-none-match") === etag) {
      return c.body(null, 304, { ETag: etag, "Cache-Control": cacheControl });
    }
    const asset = await assets.open(hash);
    if (!asset) return jsonError(c, 404, "asset_not_found", "no such asset");
    return c.body(asset.body, 200, {
      "Content-Type": asset.type,
      "Content-Length": String(asset.size),
      "Cache-Control": cacheControl,
      ETag: etag,
    });
  });

  return app;
}
