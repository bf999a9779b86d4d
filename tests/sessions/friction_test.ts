import assert from "node:assert/strict";
import type { RrwebEvent } from "@replaya/recorder/wire";
import {
  advanceFriction,
  countSignals,
  detectFriction,
  finishFriction,
  newFrictionState,
} from "../../lib/sessions/friction.ts";
import { frictionHeader, parseFrictionHeader } from "../../lib/sessions/codec.ts";

const T0 = 1_700_000_000_000;
const click = (t: number, id = 7, x = 100, y = 100): RrwebEvent => ({
  type: 3,
  timestamp: T0 + t,
  data: { source: 2, type: 2, id, x, y },
});
const mutation = (t: number): RrwebEvent => ({
  type: 3,
  timestamp: T0 + t,
  data: { source: 0, adds: [], removes: [], texts: [], attributes: [] },
});
const move = (t: number): RrwebEvent => ({ type: 3, timestamp: T0 + t, data: { source: 1, positions: [] } });
const error = (t: number): RrwebEvent => ({
  type: 5,
  timestamp: T0 + t,
  data: { tag: "replaya.error", payload: { message: "x" } },
});
const scroll = (t: number, y: number): RrwebEvent => ({
  type: 3,
  timestamp: T0 + t,
  data: { source: 3, id: 1, x: 0, y },
});
const focus = (t: number, id: number): RrwebEvent => ({ type: 3, timestamp: T0 + t, data: { source: 2, type: 5, id } });
const input = (t: number, id: number): RrwebEvent => ({
  type: 3,
  timestamp: T0 + t,
  data: { source: 5, id, text: "*", isChecked: false },
});
const request = (t: number, method: string): RrwebEvent => ({
  type: 5,
  timestamp: T0 + t,
  data: { tag: "replaya.network", payload: { method, url: "/x", status: 200 } },
});

function run(...batches: RrwebEvent[][]) {
  const state = newFrictionState();
  const signals = batches.flatMap((events) => detectFriction(events, state));
  return { state, signals, counts: countSignals(signals) };
}

Deno.test("friction: rage click, positive and negative", () => {
  assert.deepEqual(run([click(0), click(200), click(400), mutation(450)]).counts, { rage: 1 });
  // Too slow, or too far apart: no rage (each answered by a mutation, so not dead either).
  assert.deepEqual(run([click(0), mutation(10), click(700), mutation(710), click(1400), mutation(1410)]).counts, {});
  assert.deepEqual(run([click(0, 7, 0, 0), click(100, 7, 200, 0), click(200, 7, 400, 0), mutation(300)]).counts, {});
  // Across a batch boundary.
  assert.deepEqual(run([click(0), click(200)], [click(400), mutation(450)]).counts, { rage: 1 });
  // A long burst is one rage click.
  assert.deepEqual(run([click(0), click(100), click(200), click(300), click(400), mutation(500)]).counts, { rage: 1 });
});

Deno.test("friction: dead click, positive and negative, its window closing in the next batch", () => {
  assert.deepEqual(run([click(0), move(3_000)]).counts, { dead: 1 });
  assert.deepEqual(run([click(0), mutation(500), move(3_000)]).counts, {});
  assert.deepEqual(run([click(0)], [move(3_000)]).counts, { dead: 1 });
  assert.deepEqual(run([click(0)], [mutation(100), move(3_000)]).counts, {});
  // A page view or a request is a response too; an open window at the end is not judged.
  assert.deepEqual(
    run([click(0), { type: 4, timestamp: T0 + 900, data: { href: "https://a/b" } }, move(4_000)]).counts,
    {},
  );
  assert.deepEqual(run([click(0), request(300, "GET"), move(4_000)]).counts, {});
  const open = run([click(0)]);
  assert.deepEqual(open.counts, {});
  assert.deepEqual(countSignals(finishFriction(open.state)), {});
  // A heartbeat later than the window decides it; the signal comes with the next batch or at the end.
  const quiet = run([click(0)]);
  advanceFriction(quiet.state, T0 + 5_000);
  assert.deepEqual(countSignals(finishFriction(quiet.state)), { dead: 1 });
  // A click that focused a field (rrweb records the focus first) is not dead.
  assert.deepEqual(run([focus(0, 9), click(5, 9), move(4_000)]).counts, {});
});

Deno.test("friction: error click, positive and negative", () => {
  assert.deepEqual(run([click(0), error(300), move(4_000)]).counts, { error_click: 1 });
  assert.deepEqual(run([click(0), mutation(100), error(300)]).counts, { error_click: 1 });
  assert.deepEqual(run([click(0), mutation(100), error(2_500)]).counts, {});
  assert.deepEqual(run([click(0), mutation(10)], [error(500)]).counts, { error_click: 1 });
});

Deno.test("friction: thrashing by scroll and by focus, positive and negative", () => {
  const ys = [0, 400, 0, 400, 0, 400];
  assert.deepEqual(run(ys.map((y, i) => scroll(i * 150, y))).counts, { thrash: 1 });
  assert.deepEqual(
    run(ys.slice(0, 3).map((y, i) => scroll(i * 150, y)), ys.slice(3).map((y, i) => scroll((i + 3) * 150, y))).counts,
    { thrash: 1 },
  );
  // Slow, or small, reversals are reading, not thrashing.
  assert.deepEqual(run(ys.map((y, i) => scroll(i * 2_000, y))).counts, {});
  assert.deepEqual(run([0, 40, 0, 40, 0, 40].map((y, i) => scroll(i * 150, y))).counts, {});
  assert.deepEqual(run([focus(0, 3), focus(1_000, 3), focus(2_000, 3), focus(3_000, 3)]).counts, { thrash: 1 });
  assert.deepEqual(run([focus(0, 3), focus(1_000, 4), focus(2_000, 3), focus(3_000, 4)]).counts, {});
});

Deno.test("friction: abandoned form, decided at the end; a submit click or a POST is not", () => {
  const touched = run([input(0, 11), input(100, 12)]);
  const [signal] = finishFriction(touched.state);
  assert.deepEqual({ kind: signal.kind, count: signal.count, nodeId: signal.nodeId }, {
    kind: "abandoned_form",
    count: 2,
    nodeId: 12,
  });
  assert.deepEqual(countSignals(finishFriction(run([input(0, 11), request(500, "POST")]).state)), {});
  const snapshot: RrwebEvent = {
    type: 2,
    timestamp: T0,
    data: {
      node: { type: 0, id: 1, childNodes: [{ type: 2, id: 20, tagName: "button", attributes: {}, childNodes: [] }] },
    },
  };
  assert.deepEqual(
    countSignals(finishFriction(run([snapshot, input(10, 11)], [click(500, 20), mutation(600)]).state)),
    {},
  );
  // A click elsewhere is no submit.
  assert.equal(finishFriction(run([snapshot, input(10, 11), click(500, 21), mutation(600)]).state).length, 1);
  assert.deepEqual(countSignals(finishFriction(run([click(0), mutation(5)]).state)), {});
});

Deno.test("friction: hostile events stay bounded (5,000 clicks, huge and missing coordinates, missing fields)", () => {
  const events: RrwebEvent[] = [];
  for (let i = 0; i < 5_000; i++) events.push(click(i, i, i % 2 ? 1e308 : -1e308, Number.MAX_VALUE));
  events.push({ type: 3, timestamp: T0 + 1, data: { source: 2, type: 2 } } as RrwebEvent);
  events.push({ type: 3, timestamp: T0 + 2 } as RrwebEvent, { type: 5, timestamp: T0 + 3, data: null } as RrwebEvent);
  events.push({ type: 3, timestamp: T0 + 4, data: { source: 3, x: "a", y: Infinity } } as RrwebEvent);
  const state = newFrictionState();
  const signals = detectFriction(events, state);
  detectFriction([move(100_000)], state);
  assert.ok(JSON.stringify(state).length < 64 * 1024, "the carried state stays small");
  assert.ok(state.pending.length <= 64 && state.rage.length <= 32);
  assert.ok(signals.length <= 5_000);
});

Deno.test("friction: the x header round-trips and ignores junk", () => {
  assert.equal(frictionHeader({}), undefined);
  assert.equal(frictionHeader({ rage: 1, thrash: 2 }), "1,0,0,2");
  assert.deepEqual(parseFrictionHeader("1,0,0,2"), { rage: 1, thrash: 2 });
  assert.deepEqual(parseFrictionHeader("x,-1,1e400,3,9"), { thrash: 3 });
});
