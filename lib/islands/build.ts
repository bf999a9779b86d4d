/**
 * Builds the browser bundles (`deno task build`): one small ESM entry per
 * island (PascalCase files in islands/, shared chunks split out), renamed with
 * a content hash for long-lived caching, plus the recorder's script-tag build.
 * A manifest records the hashed names and a hash of the sources, so a
 * development server rebuilds on start only when bundles are missing or stale.
 * The running server reads builds through `./manifest.ts`, and loads this
 * module only when it may build (never in production).
 *
 * @module
 */

import { base64url } from "../bytes.ts";
import { BUILD_DIR, type Manifest, readManifest, ROOT } from "./manifest.ts";

export { BUILD_DIR, type Manifest, readManifest } from "./manifest.ts";

const ISLANDS_DIR = "islands";

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
  for (const dir of [ISLANDS_DIR, "recorder/src", "components"]) await collect(root, dir, files);
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

/** Builds when the manifest is missing or its source hash is stale; returns the manifest. */
export async function ensureBuilt(root = ROOT, log: (line: string) => void = console.log): Promise<Manifest> {
  const hash = await sourceHash(root);
  const current = await readManifest(root);
  if (current?.sourceHash === hash) return current;
  log(current ? "Bundles are stale; rebuilding…" : "Building browser bundles…");
  return await build(root, hash);
}

/** Builds every island and the recorder, then writes the manifest. */
export async function build(root = ROOT, hash?: string): Promise<Manifest> {
  const started = performance.now();
  const out = `${root}/${BUILD_DIR}`;
  await Deno.remove(out, { recursive: true }).catch(() => {});
  const entriesDir = `${out}/.entries`;
  await Deno.mkdir(entriesDir, { recursive: true });
  const names = await islandNames(root);
  const entries = await Promise.all(names.map(async (name) => {
    const path = `${entriesDir}/${name}.ts`;
    await Deno.writeTextFile(
      path,
      `import C from "../../../islands/${name}.tsx";\nimport { hydrateIslands } from "../../../islands/hydrate.ts";\nhydrateIslands(${
        JSON.stringify(name)
      }, C);\n`,
    );
    return path;
  }));
  const islands: Record<string, string> = {};
  if (entries.length > 0) {
    await deno(root, [
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
    ]);
    for (const name of names) {
      const file = `${out}/islands/${name}.js`;
      const hashed = `${name}-${await contentHash(file)}.js`;
      await Deno.rename(file, `${out}/islands/${hashed}`);
      islands[name] = `/static/build/islands/${hashed}`;
    }
  }
  await Deno.remove(entriesDir, { recursive: true });
  await deno(root, ["run", "-A", "recorder/build.ts"]);
  const recorderHash = await contentHash(`${root}/recorder/dist/replaya.iife.js`);
  const manifest: Manifest = {
    sourceHash: hash ?? await sourceHash(root),
    islands,
    recorder: `/recorder.js?v=${recorderHash}`,
  };
  await Deno.writeTextFile(`${out}/manifest.json`, JSON.stringify(manifest, null, 2));
  console.log(
    `Built ${names.length} island bundle(s) and the recorder in ${Math.round(performance.now() - started)} ms`,
  );
  return manifest;
}

async function contentHash(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return base64url(new Uint8Array(digest)).replace(/[^A-Za-z0-9]/g, "").slice(0, 10);
}

async function deno(cwd: string, args: string[]): Promise<void> {
  const result = await new Deno.Command(Deno.execPath(), { args, cwd, stdout: "piped", stderr: "piped" }).output();
  if (!result.success) {
    const text = new TextDecoder();
    throw new Error(`deno ${args[0]} failed:\n${text.decode(result.stdout)}\n${text.decode(result.stderr)}`);
  }
}

if (import.meta.main) await build();
