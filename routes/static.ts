/**
 * Static files: the recorder script sites embed, hashed island bundles
 * (immutable), and the dashboard's stylesheets and icons, each sent as `br`,
 * `gzip` or as it is, whichever the client accepts (`lib/http/static_files.ts`:
 * the build's precompressed variants, never compressed per request). Files
 * are found from the repository root (`ROOT`), not the working directory.
 *
 * The recorder has two URLs, both loadable cross-origin (see the CORP
 * override in app.ts): `/recorder.js`, cached for five minutes so a new
 * version reaches every site soon after a deploy, and
 * `/recorder/<content hash>.js`, immutable, for pages rendered with this build
 * (the manifest's `recorder`). A hash other than the current build's is a 404:
 * only one build is on disk.
 *
 * @module
 */

import { Hono } from "hono";
import { RECORDER_IIFE, ROOT } from "../lib/islands/manifest.ts";
import { fileResponse, StaticFiles } from "../lib/http/static_files.ts";

const IMMUTABLE = "public, max-age=31536000, immutable";
/** Short, so updates reach sites; while revalidating a day-old copy may still run once. */
const RECORDER_CACHE = "public, max-age=300, stale-while-revalidate=86400";
/** Sites on other origins load the recorder (and may read it, for integrity checks). */
const CROSS_ORIGIN = { "Access-Control-Allow-Origin": "*" };
const STATIC_CACHE = "public, max-age=300";
/** Path segments that name a file: no dot files, so no `..`, no `.next-` build folders. */
const STATIC_PATH = /^\/static\/((?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/)*[A-Za-z0-9_-][A-Za-z0-9._-]*)$/;

/** Static routes, mounted at `/`. */
export function staticRoutes(): Hono {
  const app = new Hono();
  const files = new StaticFiles();
  const recorder = () => files.get(`${ROOT}/${RECORDER_IIFE}`);

  app.get("/recorder.js", async (c) => {
    const file = await recorder();
    if (!file) return c.notFound();
    return fileResponse(c, file, RECORDER_CACHE, CROSS_ORIGIN);
  });
  app.get("/recorder/:name", async (c) => {
    const file = await recorder();
    if (!file || c.req.param("name") !== `${file.hash}.js`) return c.notFound();
    return fileResponse(c, file, IMMUTABLE, CROSS_ORIGIN);
  });
  app.get("/static/*", async (c, next) => {
    const path = STATIC_PATH.exec(c.req.path)?.[1];
    // The build's variants are not resources of their own.
    if (!path || /\.(br|gz)$/.test(path)) return await next();
    const file = await files.get(`${ROOT}/static/${path}`);
    if (!file) return await next();
    return fileResponse(c, file, path.startsWith("build/") ? IMMUTABLE : STATIC_CACHE);
  });
  return app;
}
