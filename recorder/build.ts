/// <reference lib="deno.ns" />
/**
 * Builds recorder/dist with `deno bundle`:
 * - replaya.iife.js: minified script-tag build (installs window.replaya), minified again by terser
 * - index.js + index.d.ts: ESM build and its bundled type declarations
 * - snippet.js + snippet.d.ts: the loader-snippet helper
 * - package.json + README.md + LICENSE for npm (no dependencies: rrweb's
 *   record-only build is bundled, see README.md)
 * Prints the IIFE size and fails if it exceeds the gzip budget.
 *
 * Run from the repository root: `deno run -A recorder/build.ts`
 * @module
 */

import { minify } from "terser";
import { gzip } from "./src/compress.ts";

/**
 * Upper bound for the IIFE gzipped here (CompressionStream's default level),
 * rrweb included; what the server sends is zopfli's, ~1.5 KB smaller, and
 * tests/routes/compression_test.ts holds that to 30,000 B.
 */
const GZIP_BUDGET_BYTES = 32 * 1024;

/** The project's public repository, for package.json's repository, homepage and bugs. */
const REPOSITORY = "https://github.com/replaya/replaya";

const root = new URL("./", import.meta.url);
const rootPath = decodeURIComponent(root.pathname);
const dist = new URL("dist/", root);
const distPath = decodeURIComponent(dist.pathname);

const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));

/** Runs `deno <args>` in the package; fails with its output. */
async function deno(args: string[], failure: string): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), { args, cwd: rootPath, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) {
    const text = new TextDecoder();
    console.error(text.decode(out.stdout), text.decode(out.stderr));
    throw new Error(failure);
  }
}

function bundle(args: string[]): Promise<void> {
  return deno(
    ["bundle", "--config", "deno.json", "--platform", "browser", ...args],
    `deno bundle ${args.join(" ")} failed`,
  );
}

/**
 * A second pass over the script-tag build with terser (two compress passes,
 * names mangled): ~4 % smaller gzipped than esbuild's minification alone, on
 * the file every visitor of every recorded site downloads. ~2 s, so only here:
 * a development server's quick script-tag build does without it.
 */
async function minifyAgain(path: string): Promise<void> {
  const result = await minify(await Deno.readTextFile(path), { compress: { passes: 2 }, mangle: true });
  if (!result.code) throw new Error(`terser returned nothing for ${path}`);
  await Deno.writeTextFile(path, result.code);
}

async function gzipSize(bytes: Uint8Array<ArrayBuffer>): Promise<number> {
  return (await gzip(bytes)).byteLength;
}

function kb(n: number): string {
  return `${(n / 1024).toFixed(1)} KiB (${n} B)`;
}

/**
 * The generated .d.ts must be self-contained and describe exactly what the
 * sources export: type-check that both sides are mutually assignable.
 */
async function checkDeclarations(): Promise<void> {
  for (const name of ["index.d.ts", "snippet.d.ts"]) {
    const dts = await Deno.readTextFile(new URL(name, dist));
    if (/^\s*import\b/m.test(dts)) throw new Error(`dist/${name} has imports`);
  }
  const probe = `${tmp}/dts_check.ts`;
  const same = "type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;";
  await Deno.writeTextFile(
    probe,
    [
      `import type * as D from "${new URL("index.d.ts", dist).href}";`,
      `import type * as S from "${new URL("src/mod.ts", root).href}";`,
      `import type * as DS from "${new URL("snippet.d.ts", dist).href}";`,
      `import type * as SS from "${new URL("src/snippet.ts", root).href}";`,
      same,
      "export const ok: [",
      "  Same<typeof D, typeof S>, Same<D.InitOptions, S.InitOptions>,",
      "  Same<D.ReplayaApi, S.ReplayaApi>, Same<D.Properties, S.Properties>,",
      "  Same<D.ConsoleLevel, S.ConsoleLevel>, Same<typeof DS, typeof SS>,",
      "  Same<DS.SnippetOptions, SS.SnippetOptions>,",
      "] = [true, true, true, true, true, true, true];",
      "",
    ].join("\n"),
  );
  await deno(["check", "--config", "deno.json", probe], "dist declarations do not match the sources");
}

// The recorder reports its version; it must match the package's.
const versionSource = await Deno.readTextFile(new URL("src/version.ts", root));
if (!versionSource.includes(`"${config.version}"`)) {
  throw new Error(
    `src/version.ts does not match deno.json version ${config.version}`,
  );
}

await Deno.remove(dist, { recursive: true }).catch(() => {});
await Deno.mkdir(dist, { recursive: true });
const tmp = await Deno.makeTempDir({ prefix: "replaya-build-" });

try {
  await bundle([
    "--format",
    "iife",
    "--minify",
    "-o",
    `${distPath}replaya.iife.js`,
    "src/iife.ts",
  ]);
  await minifyAgain(`${distPath}replaya.iife.js`);
  // Unminified copy only to report what minification saves.
  await bundle([
    "--format",
    "iife",
    "-o",
    `${tmp}/replaya.iife.js`,
    "src/iife.ts",
  ]);
  await bundle([
    "--format",
    "esm",
    "--declaration",
    "-o",
    `${distPath}index.js`,
    "src/mod.ts",
  ]);
  await bundle([
    "--format",
    "esm",
    "--declaration",
    "-o",
    `${distPath}snippet.js`,
    "src/snippet.ts",
  ]);

  await checkDeclarations();

  const pkg = {
    name: config.name,
    version: config.version,
    description: "RePlaya browser recorder: rrweb session recording for a self-hosted RePlaya server",
    license: config.license,
    repository: { type: "git", url: `git+${REPOSITORY}.git`, directory: "recorder" },
    homepage: `${REPOSITORY}/tree/main/recorder#readme`,
    bugs: { url: `${REPOSITORY}/issues` },
    type: "module",
    sideEffects: ["./replaya.iife.js"],
    main: "./index.js",
    module: "./index.js",
    types: "./index.d.ts",
    unpkg: "./replaya.iife.js",
    jsdelivr: "./replaya.iife.js",
    exports: {
      ".": { types: "./index.d.ts", default: "./index.js" },
      "./snippet": { types: "./snippet.d.ts", default: "./snippet.js" },
      "./replaya.iife.js": "./replaya.iife.js",
      "./package.json": "./package.json",
    },
    files: [
      "index.js",
      "index.d.ts",
      "snippet.js",
      "snippet.d.ts",
      "replaya.iife.js",
      "README.md",
      "LICENSE",
    ],
    keywords: ["session-replay", "rrweb", "replaya", "recorder"],
  };
  await Deno.writeTextFile(
    new URL("package.json", dist),
    JSON.stringify(pkg, null, 2) + "\n",
  );
  await Deno.copyFile(new URL("README.md", root), new URL("README.md", dist));
  await Deno.copyFile(new URL("LICENSE", root), new URL("LICENSE", dist));

  const min = await Deno.readFile(new URL("replaya.iife.js", dist));
  const raw = await Deno.stat(`${tmp}/replaya.iife.js`);
  const gz = await gzipSize(min);
  console.log(
    `replaya.iife.js  raw ${kb(raw.size)}  min ${kb(min.byteLength)}  gzip ${kb(gz)}`,
  );
  if (gz > GZIP_BUDGET_BYTES) {
    throw new Error(
      `IIFE is ${gz} B gzipped, over the ${GZIP_BUDGET_BYTES} B budget`,
    );
  }
  for await (const entry of Deno.readDir(dist)) {
    const { size } = await Deno.stat(new URL(entry.name, dist));
    console.log(`  dist/${entry.name}  ${size} B`);
  }
} finally {
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
}
