/**
 * The layer rule, enforced: imports run one way (routes → lib/sessions →
 * lib/store). `lib/store` imports nothing above it; `lib/assets` only
 * `lib/store` and the leaves; nothing in `lib/` imports
 * `routes/`, `components/`, `islands/` or the wiring at the top (`app.ts`,
 * `server.ts`, `main.ts`); and nothing `islands/` or `recorder/` load, even
 * through other modules, is server code (`lib/`, `routes/`, the wiring).
 * `shared/` holds pure code both sides use, and imports nothing.
 */

import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";

const ROOT = normalize(join(dirname(new URL(import.meta.url).pathname), ".."));
const SOURCE = /\.(ts|tsx)$/;
const SKIP = new Set(["node_modules", "dist", "build", ".git", "data", "test-results"]);
const IMPORT =
  /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^"';]*?\s+from\s+)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;
const WIRING = ["app.ts", "server.ts", "main.ts"];
/** The recorder is a workspace member: its package exports, resolved to files. */
const RECORDER_EXPORTS: Record<string, string> = Object.fromEntries(
  Object.entries(JSON.parse(Deno.readTextFileSync(join(ROOT, "recorder/deno.json"))).exports as Record<string, string>)
    .map(([name, path]) => [join("@replaya/recorder", name), join("recorder", path)]),
);

/** Every source file below `dir`, as repo-relative paths. */
function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync(join(ROOT, dir))) {
    if (SKIP.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory) out.push(...sources(path));
    else if (SOURCE.test(entry.name)) out.push(path);
  }
  return out;
}

/** Import specifiers of `file`, as written. */
function specifiersOf(file: string): string[] {
  return [...Deno.readTextFileSync(join(ROOT, file)).matchAll(IMPORT)].map((m) => m[1] ?? m[2]);
}

/** The repo files `file` imports: relative paths and the recorder's package exports (npm packages are outside the layers). */
function importsOf(file: string): string[] {
  return specifiersOf(file).flatMap((spec) =>
    spec.startsWith(".")
      ? [relative(ROOT, join(ROOT, dirname(file), spec))]
      : spec in RECORDER_EXPORTS
      ? [RECORDER_EXPORTS[spec]]
      : []
  );
}

const under = (path: string, ...dirs: string[]) => dirs.some((d) => path === d || path.startsWith(d + "/"));

/** Generic helpers every layer may use; they import nothing themselves. */
const LEAVES = ["lib/bytes.ts", "lib/async.ts", "lib/log.ts"];
/** Pure code the server and the islands both use (the intranet address checks); it imports nothing either. */
const SHARED = "shared";

Deno.test("layers: lib/store imports nothing above it (but the leaf helpers); shared/ imports nothing", () => {
  const bad = sources("lib/store").flatMap((f) =>
    importsOf(f).filter((i) => !under(i, "lib/store") && !LEAVES.includes(i)).map((i) => `${f} → ${i}`)
  );
  assert.deepEqual(bad, []);
  assert.deepEqual(LEAVES.flatMap(specifiersOf), []);
  assert.deepEqual(sources(SHARED).flatMap(specifiersOf), []);
});

Deno.test("layers: lib/assets imports only lib/store, the leaf helpers and shared/", () => {
  const bad = sources("lib/assets").flatMap((f) =>
    importsOf(f).filter((i) => !under(i, "lib/assets", "lib/store", SHARED) && !LEAVES.includes(i)).map((i) =>
      `${f} → ${i}`
    )
  );
  assert.deepEqual(bad, []);
});

Deno.test("layers: lib/ imports nothing from routes, components, islands or the wiring", () => {
  const bad = sources("lib").flatMap((f) =>
    importsOf(f).filter((i) => under(i, "routes", "components", "islands") || WIRING.includes(i)).map((i) =>
      `${f} → ${i}`
    )
  );
  assert.deepEqual(bad, []);
});

Deno.test("layers: islands and the recorder load no server module, even indirectly", () => {
  const bad: string[] = [];
  for (const entry of [...sources("islands"), ...sources("recorder/src")]) {
    const seen = new Set<string>();
    const stack = [entry];
    while (stack.length) {
      const file = stack.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      for (const target of importsOf(file)) {
        if (under(target, "lib", "routes") || WIRING.includes(target)) bad.push(`${entry}: ${file} → ${target}`);
        else stack.push(target);
      }
    }
  }
  assert.deepEqual(bad, []);
});

Deno.test("layers: the app reaches the recorder only by its package name", () => {
  const app = ["lib", "routes", "components", "islands", "bench", "tests/support"].flatMap(sources);
  const bad = [...app, ...WIRING].flatMap((f) =>
    specifiersOf(f).filter((s) => s.startsWith(".") && s.includes("recorder/")).map((s) => `${f} → ${s}`)
  );
  assert.deepEqual(bad, []);
});

Deno.test("layers: what runs never imports dev/ (tooling: checks, and later the build)", () => {
  const runtime = ["lib", "routes", "components", "islands", SHARED, "recorder/src", "cli"].flatMap(sources);
  const bad = [...runtime, ...WIRING].flatMap((f) =>
    importsOf(f).filter((i) => under(i, "dev")).map((i) => `${f} → ${i}`)
  );
  assert.deepEqual(bad, []);
});

Deno.test("layers: routes never import cli/; the CLI and client/ import no server code", () => {
  const bad = [
    ...sources("routes").flatMap((f) => importsOf(f).filter((i) => under(i, "cli")).map((i) => `${f} → ${i}`)),
    ...["cli", "client"].flatMap(sources).flatMap((f) =>
      importsOf(f).filter((i) => !under(i, "cli", "client", "recorder/src")).map((i) => `${f} → ${i}`)
    ),
  ];
  assert.deepEqual(bad, []);
});

Deno.test("layers: no import cycles (static imports; the dev server's dynamic import of the build is not one)", () => {
  const files = ["lib", "routes", "components", "islands", SHARED, "recorder/src", "cli", "client", "dev"].flatMap(
    sources,
  ).concat(WIRING);
  const staticImports = (file: string) =>
    // Comments out first: a doc comment's `import … from "@replaya/recorder"` example is no import.
    [
      ...Deno.readTextFileSync(join(ROOT, file)).replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "")
        .matchAll(IMPORT),
    ].filter((m) => m[1] !== undefined).map((m) => m[1])
      .flatMap((spec) =>
        spec.startsWith(".")
          ? [relative(ROOT, join(ROOT, dirname(file), spec))]
          : spec in RECORDER_EXPORTS
          ? [RECORDER_EXPORTS[spec]]
          : []
      );
  assert.deepEqual(cyclesIn(files, staticImports), []);
});

Deno.test("layers: the cycle finder finds a cycle (it would catch one)", () => {
  const graph: Record<string, string[]> = { a: ["b"], b: ["c"], c: ["a", "d"], d: [] };
  assert.deepEqual(cyclesIn(Object.keys(graph), (f) => graph[f]), ["a → b → c → a"]);
});

/** Import cycles among `files`, each as `a → b → … → a` (depth first; each cycle found once per entry point). */
function cyclesIn(files: string[], importsOf: (file: string) => string[]): string[] {
  const state = new Map<string, "open" | "done">();
  const cycles: string[] = [];
  const visit = (file: string, path: string[]) => {
    if (state.get(file) === "done") return;
    if (state.get(file) === "open") return void cycles.push([...path.slice(path.indexOf(file)), file].join(" → "));
    state.set(file, "open");
    for (const next of importsOf(file)) if (files.includes(next)) visit(next, [...path, file]);
    state.set(file, "done");
  };
  for (const file of files) visit(file, []);
  return cycles;
}

Deno.test("layers: the import scanner sees imports (it would catch a violation)", () => {
  const probe = importsOf("app.ts");
  assert.ok(probe.includes("routes/pages.tsx"), `app.ts imports: ${probe.join(", ")}`);
  assert.ok(probe.includes("lib/http/edge.ts"));
  assert.ok(importsOf("islands/Player.tsx").some((i) => i.startsWith("islands/player/")));
  assert.ok(importsOf("islands/player/stream.ts").includes("recorder/src/wire.ts"));
  assert.ok(importsOf("lib/assets/address.ts").includes("shared/intranet.ts"));
});
