import assert from "node:assert/strict";
import { withPrefix } from "../../lib/store/mod.ts";
import { storeTest } from "../support/backends.ts";

const body = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

storeTest("stream prefix: two deployments share one store without seeing each other", async ({ store, prefix }) => {
  const staging = withPrefix(store, `${prefix}staging/`);
  const prod = withPrefix(store, `${prefix}prod/`);
  for (const [name, deployment] of [["staging", staging], ["prod", prod]] as const) {
    await deployment.append("sessions/a", [{ body: body(`${name}-a`), timestamp: Date.now() }]);
    await deployment.append("sessions/b", [{ body: body(`${name}-b`), timestamp: Date.now() }]);
    await deployment.append("index/sessions", [{ body: body(name), timestamp: Date.now() }]);
  }
  // Reads, tails and listings see only their own streams, under the names the app uses.
  assert.equal(text((await staging.read("sessions/a")).records[0].body), "staging-a");
  assert.equal(text((await prod.read("sessions/a")).records[0].body), "prod-a");
  assert.equal((await prod.checkTail("index/sessions")).seqNum, 1);
  assert.deepEqual((await staging.listStreams({ prefix: "sessions/" })).names, ["sessions/a", "sessions/b"]);
  assert.deepEqual((await staging.listStreams({ prefix: "sessions/", startAfter: "sessions/a" })).names, [
    "sessions/b",
  ]);
  assert.deepEqual((await prod.listStreams()).names, ["index/sessions", "sessions/a", "sessions/b"]);
  // Underneath, the names carry the prefix.
  assert.deepEqual((await store.listStreams({ prefix })).names.length, 6);
  // Follow and delete stay scoped too.
  const abort = new AbortController();
  for await (const record of staging.follow("sessions/b", { signal: abort.signal })) {
    assert.equal(text(record.body), "staging-b");
    abort.abort();
  }
  await staging.deleteStream("sessions/a");
  assert.deepEqual((await staging.listStreams({ prefix: "sessions/" })).names, ["sessions/b"]);
  assert.equal(text((await prod.read("sessions/a")).records[0].body), "prod-a", "the other deployment keeps its own");
  assert.equal(withPrefix(store, ""), store, "no prefix, no wrapper");
});
