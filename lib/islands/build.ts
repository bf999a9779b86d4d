/**
 * Builds the browser bundles (`deno task build`): one small ESM entry per
 * island (PascalCase files in islands/, shared chunks split out), renamed with
 * a content hash for long-lived caching, plus the recorder's script-tag build.
 * A manifest records the hashed names and a hash of the sources, so a
 * development server rebuilds on start only when bundles are missing or stale.
 * The running server reads builds through `./manifest.ts`, and loads this
 * module only when it may build (never in production).
 *
 * `deno task build` builds the recorder's whole npm package (`recorder/build.ts`:
 * four bundles and a type check of its declarations, ~4 s); a development
 * server only needs the script-tag build, one `deno bundle` run beside the
 * islands' (~0.3 s together), which is what makes a first start fast.
 *
 * @module
 */

import { base64url } from "../bytes.ts";
import { compressOnce, MIN_COMPRESS_BYTES } from "../http/compress.ts";
import { assetHash, compressible, VARIANT_SUFFIX } from "../http/static_files.ts";
import { BUILD_DIR, type Manifest, readManifest, RECORDER_IIFE, ROOT } from "./manifest.ts";

const ISLANDS_DIR = "islands";
/** The suffix of an island's companion module that runs before the island's own code (see islands/Player.early.ts). */
const EARLY = ".early";

/** Island names: PascalCase `.tsx` files directly in islands/. */
export async function islandNames(root = ROOT): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(`${root}/${ISLANDS_DIR}`)) {
    const match = entry.isFile && /^([A-Z][A-Za-z0-9]*)\.tsx$/.exec(entry.name);
    if (match) names.push(match[1]);
  }
  return names.sort();
}

/**
 * A hash over every source that ends up in a bundle, by their paths relative
 * to the root (so a clone elsewhere hashes the same).
 */
export async function sourceHash(root = ROOT): Promise<string> {
  const files: string[] = [];
  for (const dir of [ISLANDS_DIR, "recorder/src", "components", "shared"]) await collect(root, dir, files);
  files.push("deno.lock", "recorder/deno.json", "lib/islands/build.ts");
  const hash = new Uint8Array(
    await crypto.subtle.digest(
      "SHA-256",
      new TextEncoder().encode(
        (await Promise.all(
          files.sort().map(async (f) => `${f}\0${await Deno.readTextFile(`${root}/${f}`).catch(() => "")}`),
        )).join("\0"),
      ),
    ),
  );
  return base64url(hash).slice(0, 16);
}

/** Adds the sources below `dir` (relative to `root`) to `out`, as relative paths. */
async function collect(root: string, dir: string, out: string[]): Promise<void> {
  for await (const entry of Deno.readDir(`${root}/${dir}`)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) await collect(root, path, out);
    else if (/\.(tsx?|css)$/.test(entry.name)) out.push(path);
  }
}

/** The build's state: the sources' hash, and the manifest when it matches them (undefined = build needed). */
export async function buildState(root = ROOT): Promise<{ hash: string; current?: Manifest; stale: boolean }> {
  const hash = await sourceHash(root);
  const manifest = await readManifest(root);
  return manifest?.sourceHash === hash ? { hash, current: manifest, stale: false } : { hash, stale: !!manifest };
}

/** Options of {@link build}. */
export interface BuildOptions {
  /**
   * `package` (default, `deno task build`): the recorder's whole npm package
   * (recorder/build.ts); `script`: only its script-tag build, which is all a
   * server serves (a development server's build).
   */
  recorder?: "package" | "script";
}

/** The shared chunks (`chunk-….js`, beside it in `dir`) that bundle `file` imports, directly or through another. */
async function chunksImported(dir: string, file: string): Promise<string[]> {
  const found = new Set<string>();
  const visit = async (name: string) => {
    const code = await Deno.readTextFile(`${dir}/${name}`);
    for (const [, chunk] of code.matchAll(/(?:from|import)\s*"\.\/(chunk-[\w-]+\.js)"/g)) {
      if (found.has(chunk)) continue;
      found.add(chunk);
      await visit(chunk);
    }
  };
  await visit(file);
  return [...found].sort();
}

/**
 * Builds every island and the recorder (at the same time), then writes the
 * manifest. Bundles are built in a folder of their own and then moved beside
 * the previous ones (their names are content hashes), and the manifest is
 * replaced whole, so a build that is interrupted (a development server stopped
 * while it builds in the background) or runs beside another never leaves half
 * a build in place. Bundles no build has named for 10 minutes are removed.
 */
export async function build(root = ROOT, hash?: string, options: BuildOptions = {}): Promise<Manifest> {
  const started = performance.now();
  const final = `${root}/${BUILD_DIR}`;
  const out = `${final}/.next-${crypto.randomUUID().slice(0, 8)}`;
  let manifest: Manifest;
  let names: string[];
  try {
    [names] = await Promise.all([buildIslands(root, out), buildRecorder(root, options.recorder ?? "package")]);
    const islands: Record<string, string> = {};
    const imports: Record<string, string[]> = {};
    const early: Record<string, string> = {};
    for (const name of names) {
      const chunks = await chunksImported(`${out}/islands`, `${name}.js`);
      islands[name] = await hashName(`${out}/islands`, name);
      if (await exists(`${out}/islands/${name}${EARLY}.js`)) {
        early[name] = await hashName(`${out}/islands`, `${name}${EARLY}`);
      }
      imports[name] = chunks.map((c) => `/static/build/islands/${c}`);
    }
    const recorderHash = await contentHash(`${root}/${RECORDER_IIFE}`);
    // A development server's build is waited for: quick settings there (brotli 5, still smaller than gzip 9).
    await precompressAll(root, out, options.recorder === "script" ? "fast" : "best");
    manifest = {
      sourceHash: hash ?? await sourceHash(root),
      islands,
      recorder: `/recorder/${recorderHash}.js`,
      imports,
      early,
    };
    await Deno.mkdir(`${final}/islands`, { recursive: true });
    const files = new Set<string>();
    for await (const entry of Deno.readDir(`${out}/islands`)) {
      files.add(entry.name);
      await Deno.rename(`${out}/islands/${entry.name}`, `${final}/islands/${entry.name}`);
    }
    await Deno.writeTextFile(`${out}/manifest.json`, JSON.stringify(manifest, null, 2));
    await Deno.rename(`${out}/manifest.json`, `${final}/manifest.json`);
    await prune(final, files);
  } finally {
    await Deno.remove(out, { recursive: true }).catch(() => {});
  }
  report(names.length, started); // last: a server serves the build from the next microtask on
  return manifest;
}

/** Renames `dir`/`base`.js after its content; returns its URL path. */
async function hashName(dir: string, base: string): Promise<string> {
  const hashed = `${base}-${await contentHash(`${dir}/${base}.js`)}.js`;
  await Deno.rename(`${dir}/${base}.js`, `${dir}/${hashed}`);
  return `/static/build/islands/${hashed}`;
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/** Removes bundles this build did not make and interrupted builds' folders, once 10 minutes old. */
async function prune(final: string, keep: Set<string>): Promise<void> {
  const before = Date.now() - 10 * 60_000;
  const old = async (path: string) => ((await Deno.stat(path).catch(() => undefined))?.mtime?.getTime() ?? 0) < before;
  for await (const entry of Deno.readDir(`${final}/islands`)) {
    const path = `${final}/islands/${entry.name}`;
    if (!keep.has(entry.name) && await old(path)) await Deno.remove(path).catch(() => {});
  }
  for await (const entry of Deno.readDir(final)) {
    const path = `${final}/${entry.name}`;
    if (entry.name.startsWith(".next-") && await old(path)) {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    }
  }
}

function report(islands: number, started: number): void {
  console.log(
    `Built ${islands} island bundle(s) and the recorder in ${Math.round(performance.now() - started)} ms`,
  );
}

/** Bundles every island (one entry each, shared chunks split out) into `out`/islands; returns their names. */
async function buildIslands(root: string, out: string): Promise<string[]> {
  const entriesDir = `${out}/.entries`;
  await Deno.mkdir(entriesDir, { recursive: true });
  const names = await islandNames(root);
  const entries = await Promise.all(names.map(async (name) => {
    const path = `${entriesDir}/${name}.ts`;
    await Deno.writeTextFile(
      path,
      `import C from "../../../../islands/${name}.tsx";\nimport { hydrateIslands } from "../../../../islands/hydrate.ts";\nhydrateIslands(${
        JSON.stringify(name)
      }, C);\n`,
    );
    return path;
  }));
  // An island's companion script (`<Name>.early.ts`): a classic script with no imports, so the page runs it as
  // soon as the parser reaches it, before the island's modules have arrived.
  const early: string[] = [];
  for (const name of names) if (await exists(`${root}/${ISLANDS_DIR}/${name}${EARLY}.ts`)) early.push(name);
  const bundleEarly = (name: string) =>
    deno(root, [
      "bundle",
      "--platform",
      "browser",
      "--format",
      "iife",
      "--minify",
      "-o",
      `${out}/islands/${name}${EARLY}.js`,
      `${ISLANDS_DIR}/${name}${EARLY}.ts`,
    ]);
  if (entries.length > 0) {
    await Promise.all([
      ...early.map(bundleEarly),
      deno(root, [
        "bundle",
        "--platform",
        "browser",
        "--format",
        "esm",
        "--minify",
        "--code-splitting",
        "--outdir",
        `${out}/islands`,
        ...entries,
      ]),
    ]);
  }
  await Deno.remove(entriesDir, { recursive: true });
  return names;
}

/** The recorder: its whole package (recorder/build.ts), or only the script-tag build the server serves. */
async function buildRecorder(root: string, what: "package" | "script"): Promise<void> {
  if (what === "package") return await deno(root, ["run", "-A", "recorder/build.ts"]);
  // The same flags as recorder/build.ts's script-tag bundle, without the npm package and its type check.
  await Deno.mkdir(`${root}/recorder/dist`, { recursive: true });
  const part = `replaya.iife.${crypto.randomUUID().slice(0, 8)}.part.js`;
  await deno(`${root}/recorder`, [
    "bundle",
    "--config",
    "deno.json",
    "--platform",
    "browser",
    "--format",
    "iife",
    "--minify",
    "-o",
    `dist/${part}`,
    "src/iife.ts",
  ]);
  await Deno.rename(`${root}/recorder/dist/${part}`, `${root}/${RECORDER_IIFE}`); // whole, or the previous one
}

async function contentHash(path: string): Promise<string> {
  return await assetHash(await Deno.readFile(path));
}

/**
 * Writes the `.br` and `.gz` variants the server sends (`lib/http/static_files.ts`)
 * beside every compressible file it serves: this build's island bundles (in
 * `out`, so they move into place with them), the recorder, and `static/`'s own
 * files (CSS, icons). Each variant is written whole (a temporary name, then
 * renamed); the server checks a variant's content against its file anyway.
 */
async function precompressAll(root: string, out: string, effort: "best" | "fast"): Promise<void> {
  const paths = [`${root}/${RECORDER_IIFE}`];
  for (const dir of [`${out}/islands`, `${root}/static`]) {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && compressible(entry.name)) paths.push(`${dir}/${entry.name}`);
    }
  }
  const gzipBest = effort === "best" ? await zopfliGzip() : undefined;
  await Promise.all(paths.map(async (path) => {
    const bytes = await Deno.readFile(path);
    if (bytes.length < MIN_COMPRESS_BYTES) return;
    for (const encoding of ["br", "gzip"] as const) {
      const part = `${path}${VARIANT_SUFFIX[encoding]}.${crypto.randomUUID().slice(0, 8)}.part`;
      const variant = encoding === "gzip" && gzipBest
        ? await gzipBest(bytes)
        : await compressOnce(bytes, encoding, effort);
      await Deno.writeFile(part, variant);
      await Deno.rename(part, path + VARIANT_SUFFIX[encoding]);
    }
  }));
}

/**
 * Zopfli: gzip that any client inflates, ~3 % smaller than zlib's level 9, at
 * ~100x its time (~2 s for every bundle here, once per build). Worth it for the
 * recorder above all, which every visitor of every recorded site downloads; a
 * development server's quick build does without it (loaded only here).
 */
async function zopfliGzip(): Promise<(bytes: Uint8Array) => Promise<Uint8Array>> {
  const { gzipAsync } = await import("@gfx/zopfli");
  return (bytes) => gzipAsync(bytes, { numiterations: 15 });
}

async function deno(cwd: string, args: string[]): Promise<void> {
  const result = await new Deno.Command(Deno.execPath(), { args, cwd, stdout: "piped", stderr: "piped" }).output();
  if (!result.success) {
    const text = new TextDecoder();
    throw new Error(`deno ${args[0]} failed:\n${text.decode(result.stdout)}\n${text.decode(result.stderr)}`);
  }
}

if (import.meta.main) await build();
