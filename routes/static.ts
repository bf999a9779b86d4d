/**
 * Static files: the recorder script sites embed (`/recorder.js`, cacheable
 * and loadable cross-origin), hashed island bundles (immutable), and the
 * dashboard's stylesheets and icons. Files are found from the repository root
 * (`ROOT`, resolved from the module), not the working directory.
 *
 * @module
 */

import { Hono } from "hono";
import { serveStatic } from "hono/deno";
import { type Manifest, RECORDER_IIFE, ROOT } from "../lib/islands/manifest.ts";

/** Static routes, mounted at `/`. */
export function staticRoutes(manifest: () => Manifest): Hono {
  const app = new Hono();
  app.get("/recorder.js", async (c, next) => {
    await next();
    // Sites on other origins load this script (see the CORP override in app.ts); they may cache it for an hour.
    c.res.headers.set("Access-Control-Allow-Origin", "*");
    c.res.headers.set("Cache-Control", "public, max-age=3600, stale-while-revalidate=86400");
    c.res.headers.set("ETag", `"${manifest().recorder.split("v=")[1] ?? "dev"}"`);
  }, serveStatic({ root: ROOT, path: RECORDER_IIFE, mimes: { js: "application/javascript" } }));
  app.use("/static/build/*", async (c, next) => {
    await next();
    if (c.res.ok) c.res.headers.set("Cache-Control", "public, max-age=31536000, immutable");
  });
  app.use("/static/*", async (c, next) => {
    await next();
    if (c.res.ok && !c.res.headers.has("Cache-Control")) c.res.headers.set("Cache-Control", "public, max-age=300");
  });
  app.use("/static/*", serveStatic({ root: ROOT }));
  return app;
}
