/**
 * No container engine runs in CI, so the Dockerfile is held to what CI does run: its base image is the Deno version
 * in use (and .ci/run's), its deno commands are the ones tests/deploy/deploy_test.ts runs from a fresh clone, the
 * production task's permissions stay narrow, and the server runs as a non-root user with a health check.
 */

import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);
const read = (path: string) => Deno.readTextFile(new URL(path, ROOT));

/** The Dockerfile's instructions, continuation lines joined and comments dropped. */
async function instructions(): Promise<Array<{ op: string; args: string }>> {
  const text = (await read("Dockerfile")).replace(/\\\n/g, " ");
  return text.split("\n").map((line) => line.trim()).filter((line) => line && !line.startsWith("#")).map((line) => {
    const [op, ...rest] = line.split(/\s+/);
    return { op: op.toUpperCase(), args: rest.join(" ") };
  });
}

/** A shell or exec-form command as one string: `["deno", "task", "serve"]` → `deno task serve`. */
function command(args: string): string {
  const exec = args.match(/\[(.*)\]\s*$/);
  return exec ? (JSON.parse(`[${exec[1]}]`) as string[]).join(" ") : args;
}

Deno.test("container: the base image is the Deno version in use, the same as CI's", async () => {
  const all = await instructions();
  const version = all.find((i) => i.op === "ARG" && i.args.startsWith("DENO_VERSION="))?.args.split("=")[1];
  assert.equal(version, Deno.version.deno);
  const froms = all.filter((i) => i.op === "FROM").map((i) => i.args.split(/\s+/)[0]);
  assert.ok(froms.length >= 2, "multi-stage");
  for (const from of froms.filter((f) => !["deps", "build"].includes(f))) {
    assert.equal(from, "denoland/deno:${DENO_VERSION}");
  }
  assert.match(await read(".ci/run"), new RegExp(`^DENO_VERSION=${version!.replaceAll(".", "\\.")}$`, "m"));
});

Deno.test("container: every deno command is one the deploy test runs from a fresh clone", async () => {
  const all = await instructions();
  const deno = all.filter((i) => ["RUN", "CMD", "HEALTHCHECK"].includes(i.op))
    .flatMap((i) => command(i.op === "HEALTHCHECK" ? i.args.replace(/^.*?\bCMD\s+/, "") : i.args).split("&&"))
    .map((c) => c.trim()).filter((c) => c.startsWith("deno "));
  assert.deepEqual(deno, ["deno install --frozen", "deno task build", "deno task healthcheck", "deno task serve"]);
  const test = await read("tests/deploy/deploy_test.ts");
  for (const task of ["build", "serve", "healthcheck"]) assert.match(test, new RegExp(`\\["task", "${task}"\\]`));
  assert.match(test, /\["install", "--frozen", "--cached-only"\]/);
  // Dependencies get their own layer: only the manifests and lockfiles are copied before installing.
  const copiesBeforeInstall = all.slice(0, all.findIndex((i) => i.args === "deno install --frozen"))
    .filter((i) => i.op === "COPY").map((i) => i.args);
  assert.deepEqual(copiesBeforeInstall, ["deno.json deno.lock ./", "recorder/deno.json recorder/deno.lock recorder/"]);
});

Deno.test("container: the server runs `deno task serve` as a non-root user with narrow permissions", async () => {
  const all = await instructions();
  const runtime = all.slice(all.findLastIndex((i) => i.op === "FROM"));
  assert.deepEqual(runtime.filter((i) => i.op === "USER").map((i) => i.args), ["deno"]);
  assert.equal(command(runtime.find((i) => i.op === "CMD")!.args), "deno task serve");
  assert.ok(runtime.some((i) => i.op === "HEALTHCHECK"));
  const tasks = JSON.parse(await read("deno.json")).tasks as Record<string, string>;
  assert.equal(tasks.serve, "deno run --allow-net --allow-env --allow-read --allow-write=data main.ts");
  assert.doesNotMatch(tasks.healthcheck, /--allow-(all|run|write|read)\b|\s-A\b/);
});

Deno.test("container: compose runs RePlaya behind Caddy on a durable s2-lite", async () => {
  const compose = await read("compose.yaml");
  assert.match(compose, /command: \["lite", "--port", "8080", "--local-root", "\/data"\]/);
  assert.match(compose, /- s2-data:\/data/);
  assert.match(compose, /S2_ACCOUNT_ENDPOINT: http:\/\/s2:8080/);
  assert.match(compose, /REPLAYA_TRUST_PROXY: "1"/);
  assert.match(compose, /reverse_proxy replaya:8080/);
  assert.match(compose, /read_header 10s/);
  assert.match(compose, /condition: service_healthy/);
});
