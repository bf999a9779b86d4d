import assert from "node:assert/strict";
import { LiveHub, type LiveHubOptions, ViewerTooSlowError } from "../../lib/sessions/live_hub.ts";
import { Sessions } from "../../lib/sessions/service.ts";
import type { SessionItem } from "../../lib/sessions/codec.ts";
import type { StreamStore } from "../../lib/store/mod.ts";
import { storeTest } from "../support/backends.ts";
import { fakeEvents } from "../support/client.ts";
import type { RrwebEvent } from "@replaya/recorder/wire";

const utf8 = new TextEncoder();

/** Items as one line each: `kind seqNum batch`, so a viewer's output is easy to compare. */
function hubOn(store: StreamStore, options: Partial<LiveHubOptions> = {}): LiveHub {
  return new LiveHub({
    store,
    encode: (item: SessionItem) =>
      item.kind === "heartbeat"
        ? undefined
        : utf8.encode(`${item.kind} ${item.seqNum} ${item.kind === "events" ? item.batch : "-"}\n`),
    liveFrame: () => utf8.encode("live\n"),
    ...options,
  });
}

/** Collects a viewer's lines until it ends (or throws). */
async function collect(chunks: AsyncIterable<Uint8Array>, lines: string[] = []): Promise<string[]> {
  const text = new TextDecoder();
  for await (const chunk of chunks) lines.push(...text.decode(chunk).split("\n").filter(Boolean));
  return lines;
}

const events = (n: number) => fakeEvents(n, Date.now()) as unknown as RrwebEvent[];
const batchesOf = (lines: string[]) => lines.filter((l) => l.startsWith("events")).map((l) => Number(l.split(" ")[2]));

/** Waits until `lines` satisfies `done` (the viewer is consuming concurrently). */
async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

storeTest("live hub: viewers joining at different positions see every batch once, in order", async ({ store }) => {
  const sessions = new Sessions({ store });
  const hub = hubOn(store, { ringFrames: 3 }); // a small ring: late joiners must catch up from the store
  const { id } = await sessions.create({ url: "https://shop.example/" });
  const append = (batch: number) => sessions.appendEvents(id, { writerId: "w1", batch, events: events(2) });
  for (let b = 0; b < 5; b++) await append(b);

  const stop = new AbortController();
  const first = collect(hub.follow(id, 0, stop.signal)); // joins while the session is young
  for (let b = 5; b < 15; b++) await append(b);
  const lines: string[] = [];
  const second = collect(hub.follow(id, 0, stop.signal), lines); // catches up past the ring
  await until(() => batchesOf(lines).length >= 15, "the second viewer to catch up");
  const mid = Number(lines.find((l) => l.endsWith(" 9"))!.split(" ")[1]);
  const third = collect(hub.follow(id, mid + 1, stop.signal)); // resumes after batch 9 (Last-Event-ID)
  for (let b = 15; b < 30; b++) await append(b);
  const fourth = collect(hub.follow(id, 0, stop.signal));
  await sessions.stop(id);

  const all = Array.from({ length: 30 }, (_, b) => b);
  for (
    const [name, viewer, expected] of [
      ["first", first, all],
      ["second", second, all],
      ["third", third, all.slice(10)],
      ["fourth", fourth, all],
    ] as const
  ) {
    const got = await viewer;
    assert.deepEqual(batchesOf(got), expected, `${name} viewer`);
    assert.equal(got.filter((l) => l.startsWith("stop")).length, 1, `${name} viewer ends with one stop`);
    assert.ok(got.at(-1)!.startsWith("stop"), `${name} viewer: stop is last`);
  }
  assert.deepEqual(hub.stats, { channels: 0, viewers: 0, replays: 0 });
});

storeTest(
  "live hub: a viewer too far behind is ended, then resumes from its last frame with nothing lost",
  async ({ store }) => {
    const sessions = new Sessions({ store });
    const hub = hubOn(store, { queueBytes: 64 });
    const { id } = await sessions.create({ url: "https://shop.example/" });
    const signal = new AbortController().signal;
    const slow = hub.follow(id, 0, signal)[Symbol.asyncIterator]();
    const fast = collect(hub.follow(id, 0, signal));
    // The slow viewer reads one chunk, then nothing while the session goes on.
    const text = new TextDecoder();
    const seen: string[] = text.decode((await slow.next()).value!).split("\n").filter(Boolean);
    for (let b = 0; b < 20; b++) await sessions.appendEvents(id, { writerId: "w1", batch: b, events: events(1) });
    await sessions.stop(id);
    assert.deepEqual(batchesOf(await fast), Array.from({ length: 20 }, (_, b) => b), "the fast viewer is not held up");
    let error: unknown;
    try {
      for (let r = await slow.next(); !r.done; r = await slow.next()) {
        seen.push(...text.decode(r.value).split("\n").filter(Boolean));
      }
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof ViewerTooSlowError, `ended as too slow: ${error}`);
    const delivered = batchesOf(seen);
    assert.ok(delivered.length < 20, "it was ended before the end");
    const last = Number(seen.filter((l) => !l.startsWith("live")).at(-1)!.split(" ")[1]);
    const rest = await collect(hub.replay(id, signal)).then((all) =>
      all.filter((l) => !l.startsWith("live") && Number(l.split(" ")[1]) > last)
    );
    assert.deepEqual([...delivered, ...batchesOf(rest)], Array.from({ length: 20 }, (_, b) => b));
    assert.deepEqual(hub.stats, { channels: 0, viewers: 0, replays: 0 });
  },
);

storeTest("live hub: an aborted viewer releases its channel; concurrent replays share one read", async ({ store }) => {
  const sessions = new Sessions({ store });
  const hub = hubOn(store);
  const { id } = await sessions.create({ url: "https://shop.example/" });
  for (let b = 0; b < 10; b++) await sessions.appendEvents(id, { writerId: "w1", batch: b, events: events(3) });

  const viewers = Array.from({ length: 20 }, () => new AbortController());
  const runs = viewers.map((v) => collect(hub.follow(id, 0, v.signal)));
  await until(() => hub.stats.viewers === 20, "20 viewers");
  assert.equal(hub.stats.channels, 1, "one channel for 20 viewers");
  viewers.forEach((v) => v.abort());
  for (const lines of await Promise.all(runs)) assert.ok(batchesOf(lines).length <= 10);
  assert.deepEqual(hub.stats, { channels: 0, viewers: 0, replays: 0 }, "nothing held after the viewers left");

  await sessions.stop(id);
  const signal = new AbortController().signal;
  const replays = Array.from({ length: 10 }, () => collect(hub.replay(id, signal)));
  assert.equal(hub.stats.replays, 1, "ten viewers, one read");
  const outputs = await Promise.all(replays);
  for (const lines of outputs) {
    assert.deepEqual(batchesOf(lines), Array.from({ length: 10 }, (_, b) => b));
    assert.deepEqual(lines, outputs[0]);
  }
  assert.deepEqual(hub.stats, { channels: 0, viewers: 0, replays: 0 });
});
