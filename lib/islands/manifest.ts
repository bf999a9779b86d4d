/**
 * The built browser bundles as the running server sees them: where the
 * repository's files are (resolved from this module, so the server runs from
 * any working directory), the build manifest, and whether this process builds
 * the bundles itself or only reads what `deno task build` produced.
 *
 * Production (and any process without write access to the build dir or
 * permission to run `deno`, such as Deno Deploy's or a locked-down container's)
 * never writes a file or spawns a process here; `lib/islands/build.ts` is only
 * loaded when this process may build.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/** The repository root (the folder of `main.ts`), as a path without a trailing slash. */
export const ROOT: string = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/+$/, "");

/** The command that builds the bundles, named in every message about a missing build. */
export const BUILD_COMMAND = "deno task build";

/** Where bundles and the manifest go, relative to the root (gitignored). */
export const BUILD_DIR = "static/build";

/** The recorder's script-tag build, relative to the root (written by `recorder/build.ts`). */
export const RECORDER_IIFE = "recorder/dist/replaya.iife.js";

/** What the server needs to know about the built bundles. */
export interface Manifest {
  sourceHash: string;
  /** island name → URL path of its entry bundle */
  islands: Record<string, string>;
  /** URL path of the recorder IIFE */
  recorder: string;
  /**
   * island name → URL paths of the shared chunks its entry imports, directly or not: preloaded with the entry
   * (`<link rel="modulepreload">`), so the browser does not find them only once the entry has arrived
   */
  imports?: Record<string, string[]>;
  /** island name → URL path of its companion module (`islands/<Name>.early.ts`), run before the island's code */
  early?: Record<string, string>;
  /**
   * Only while a development server builds in the background (`building`: no
   * islands or recorder yet; pages work without their islands and say so) or
   * after that build failed (`failed`); never in a manifest file.
   */
  pending?: "building" | "failed";
}

/** The build is missing or incomplete and this process does not build it. */
export class MissingBuildError extends Error {
  override name = "MissingBuildError";
}

/** Reads the manifest, or undefined when there is none. */
export async function readManifest(root = ROOT): Promise<Manifest | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(`${root}/${BUILD_DIR}/manifest.json`));
  } catch {
    return undefined;
  }
}

/** Whether this process may build: write access to the build dir and permission to run `deno`, asked without prompting. */
export function mayBuild(root = ROOT): boolean {
  const granted = (descriptor: Deno.PermissionDescriptor) => {
    try {
      return Deno.permissions.querySync(descriptor).state === "granted";
    } catch {
      return false; // e.g. Deno.execPath() without read access
    }
  };
  return granted({ name: "write", path: `${root}/${BUILD_DIR}` }) && granted({ name: "run", command: Deno.execPath() });
}

/**
 * The manifest of a finished build, checked to be complete (the manifest and
 * the recorder); otherwise a {@link MissingBuildError} naming the build command.
 */
export async function readBuild(root = ROOT): Promise<Manifest> {
  const manifest = await readManifest(root);
  const missing = manifest === undefined
    ? `${root}/${BUILD_DIR}/manifest.json`
    : await Deno.stat(`${root}/${RECORDER_IIFE}`).then(() => undefined, () => `${root}/${RECORDER_IIFE}`);
  if (missing !== undefined) {
    throw new MissingBuildError(
      `the browser bundles are not built (${missing} is missing). Run \`${BUILD_COMMAND}\` before starting: ` +
        "in production, or without permission to write the build or run deno, the server only reads a finished build.",
    );
  }
  return manifest!;
}

/**
 * The manifest to serve. In production, or when this process may not build,
 * the finished build is only read ({@link readBuild}); in development the
 * bundles are built when missing or stale (which loads the build code).
 */
export async function loadManifest(
  options: { production: boolean; root?: string; log?: (line: string) => void },
): Promise<Manifest> {
  return await (await startManifest(options)).ready;
}

/** The manifest a server serves: `current()` now, `ready` once the bundles are built. */
export interface ManifestSource {
  current(): Manifest;
  ready: Promise<Manifest>;
}

/**
 * Like {@link loadManifest}, but a development server that must build does
 * so in the background: until the build is done `current()` is a manifest
 * with `pending: "building"`, so the server listens at once (a fresh clone's
 * first start) and its pages say the bundles are on their way. A failed
 * build is logged and leaves `pending: "failed"`; `ready` then rejects.
 */
export async function startManifest(
  options: { production: boolean; root?: string; log?: (line: string) => void },
): Promise<ManifestSource> {
  const root = options.root ?? ROOT;
  const log = options.log ?? console.log;
  if (options.production || !mayBuild(root)) return fixedManifest(await readBuild(root));
  const { build, buildState } = await import("./build.ts");
  const { hash, current, stale } = await buildState(root);
  if (current) return fixedManifest(current);
  log(stale ? "Bundles are stale; rebuilding in the background…" : "Building browser bundles in the background…");
  let manifest: Manifest = { sourceHash: "", islands: {}, recorder: "/recorder.js", pending: "building" };
  const ready = build(root, hash, { recorder: "script" }).then((built) => (manifest = built), (error) => {
    manifest = { ...manifest, pending: "failed" };
    log(`Building the browser bundles failed; pages work without their islands until a restart: ${error}`);
    throw error;
  });
  ready.catch(() => {}); // reported above; `ready` still rejects for whoever awaits it
  return { current: () => manifest, ready };
}

/** A manifest that is already built. */
export function fixedManifest(manifest: Manifest): ManifestSource {
  return { current: () => manifest, ready: Promise.resolve(manifest) };
}
