/**
 * The list's friction filter and order (lib/sessions/list.ts) over real
 * stores: from end summaries and live running counts, never a read of a
 * session's recording; `sort=friction` pages with its own cursor.
 */

import assert from "node:assert/strict";
import { storeTest } from "../support/backends.ts";
import { Sessions } from "../../lib/sessions/service.ts";
import { filterFromQuery, listSessions, sortFromQuery } from "../../lib/sessions/list.ts";
import type { StreamStore } from "../../lib/store/mod.ts";
import type { RrwebEvent } from "@replaya/recorder/wire";
import { frictionBatches, T0 } from "./_friction_session.ts";

const rage = (t: number): RrwebEvent[] => [
  ...[0, 100, 200].map((d): RrwebEvent => ({
    type: 3,
    timestamp: t + d,
    data: { source: 2, type: 2, id: 5, x: 10, y: 10 },
  })),
  { type: 3, timestamp: t + 300, data: { source: 0, adds: [], removes: [], texts: [], attributes: [] } },
];

/** A store that remembers reads of session streams from their start (what a report or a replay does). */
function watchingReads(store: StreamStore): { store: StreamStore; fullReads: string[] } {
  const fullReads: string[] = [];
  const proxy = new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (name === "read") {
        return (...args: Parameters<StreamStore["read"]>) => {
          const [stream, options] = args;
          const from = options?.from as { seqNum?: number } | undefined;
          if (stream.startsWith("sessions/") && from?.seqNum === 0) fullReads.push(stream);
          return target.read(...args);
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { store: proxy, fullReads };
}

storeTest("list: friction filter and sort from summaries and running counts, no recording read", async ({
  store: raw,
}) => {
  const clock = { now: T0 };
  const writer = new Sessions({ store: raw, now: () => clock.now });
  // Oldest: every signal, ended. Then: one rage click, still live. Newest: nothing, ended.
  const all = await writer.create({ url: "https://shop.example/all" });
  for (const [i, events] of frictionBatches().entries()) {
    clock.now = events.at(-1)!.timestamp + 10;
    await writer.appendEvents(all.id, { writerId: "w", batch: i, events });
  }
  await writer.stop(all.id);
  clock.now = T0 + 30_000;
  const live = await writer.create({ url: "https://shop.example/live" });
  await writer.appendEvents(live.id, { writerId: "w", batch: 0, events: rage(T0 + 30_000) });
  clock.now = T0 + 40_000;
  const calm = await writer.create({ url: "https://shop.example/calm" });
  await writer.stop(calm.id);

  const { store, fullReads } = watchingReads(raw);
  // A second process: it never wrote these, so the live session's counts come from bounded tail reads.
  const sessions = new Sessions({ store, now: () => clock.now });
  const ids = async (query: Record<string, string>, limit = 50, cursor?: string) => {
    const page = await listSessions(sessions, {
      filter: filterFromQuery(query),
      sort: sortFromQuery(query),
      limit,
      cursor,
      now: clock.now,
    });
    return { ids: page.rows.map((r) => r.id), next: page.next };
  };
  assert.deepEqual((await ids({ friction: "rage" })).ids, [live.id, all.id]);
  assert.deepEqual((await ids({ friction: "abandoned" })).ids, [all.id]);
  assert.deepEqual((await ids({ friction: "dead" })).ids, [all.id]);
  assert.deepEqual((await ids({ friction: "any" })).ids, [live.id, all.id]);
  assert.deepEqual((await ids({ friction: "nonsense" })).ids, [calm.id, live.id, all.id], "ignored");
  assert.deepEqual((await ids({ friction: "rage", status: "live" })).ids, [live.id]);

  assert.deepEqual((await ids({ sort: "friction" })).ids, [all.id, live.id, calm.id]);
  const first = await ids({ sort: "friction" }, 2);
  assert.deepEqual(first.ids, [all.id, live.id]);
  assert.equal(first.next, `1.${live.id}`);
  const second = await ids({ sort: "friction" }, 2, first.next);
  assert.deepEqual(second, { ids: [calm.id], next: undefined });
  assert.deepEqual((await ids({ sort: "friction", friction: "any" })).ids, [all.id, live.id]);
  assert.deepEqual((await ids({ sort: "friction" }, 2, "garbage")).ids, [all.id, live.id], "a bad cursor starts over");
  // Ended sessions: their summaries only. The live one: its records' headers, caught up once (running.ts).
  assert.deepEqual(fullReads, [`sessions/${live.id}`], "no other session stream was read from its start");
});
