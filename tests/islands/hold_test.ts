import assert from "node:assert/strict";
import { holdHandlers } from "../../islands/player/hold.ts";
import type { StreamHandlers } from "../../islands/player/stream.ts";
import { click, meta } from "./_events.ts";

function recorder() {
  const log: string[] = [];
  const handlers: StreamHandlers = {
    onMeta: (m, seq) => log.push(`meta ${m.id} #${seq}`),
    onEvents: (events, seq) => log.push(`events #${seq} (${events.length})`),
    onLive: (tail) => log.push(`live ${tail}`),
    onStop: (stop, seq) => log.push(`stop ${stop.reason} #${seq}`),
    onConnection: (state) => log.push(state),
    onEnd: () => log.push("end"),
  };
  return { log, handlers };
}

function deferred() {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

const META = { id: "s1", createdAt: 1, projectKey: "pk", url: "https://a.example/", userAgent: "ua" };

Deno.test("hold: calls before `ready` are queued in order, replayed once, and later calls pass straight through", async () => {
  const { log, handlers } = recorder();
  const ready = deferred();
  const held = holdHandlers(handlers, ready.promise);
  held.handlers.onConnection?.("open");
  held.handlers.onMeta(META as never, 0);
  held.handlers.onEvents([meta(0), click(10, 1)], 1);
  assert.deepEqual(log, [], "nothing reaches the player before the map");
  ready.resolve();
  await ready.promise;
  await Promise.resolve();
  assert.deepEqual(log, ["open", "meta s1 #0", "events #1 (2)"]);
  held.handlers.onEvents([click(20, 1)], 2);
  held.handlers.onLive(2);
  held.handlers.onStop({ reason: "stopped" } as never, 3);
  assert.deepEqual(log, ["open", "meta s1 #0", "events #1 (2)", "events #2 (1)", "live 2", "stop stopped #3"]);
});

Deno.test("hold: a rejected `ready` releases the queue as well (the player goes on without the map)", async () => {
  const { log, handlers } = recorder();
  const ready = deferred();
  const held = holdHandlers(handlers, ready.promise);
  held.handlers.onEvents([meta(0)], 1);
  held.handlers.onEnd?.();
  ready.reject(new Error("map failed"));
  await ready.promise.catch(() => {});
  await Promise.resolve();
  assert.deepEqual(log, ["events #1 (1)", "end"]);
});

Deno.test("hold: after cancel nothing queued or new is delivered", async () => {
  const { log, handlers } = recorder();
  const ready = deferred();
  const held = holdHandlers(handlers, ready.promise);
  held.handlers.onEvents([meta(0)], 1);
  held.cancel();
  ready.resolve();
  await ready.promise;
  await Promise.resolve();
  held.handlers.onEvents([click(5, 1)], 2);
  assert.deepEqual(log, []);
});
