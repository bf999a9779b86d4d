/**
 * The friction report (lib/sessions/report.ts) over real stores: a synthetic
 * session recorded through the service gives each signal once, with its
 * element and page; JSON and Markdown are deterministic (compared with a
 * stored snapshot); the bounds truncate and say so; a live session is
 * reported as live, without abandoned forms.
 */

import assert from "node:assert/strict";
import { storeTest } from "../support/backends.ts";
import { Sessions } from "../../lib/sessions/service.ts";
import { buildReport } from "../../lib/sessions/report.ts";
import { renderReportMarkdown } from "../../lib/sessions/report_markdown.ts";
import { frictionBatches, T0 } from "./_friction_session.ts";

// Not .md: the formatter would align its tables, and the snapshot is what the renderer writes, byte for byte.
const SNAPSHOT = new URL("../fixtures/friction_report.md.txt", import.meta.url);

async function record(sessions: Sessions, clock: { now: number }, { stop = true } = {}) {
  const { id } = await sessions.create({ url: "https://shop.example/products", source: "shop" });
  const batches = frictionBatches();
  for (const [i, events] of batches.entries()) {
    clock.now = events.at(-1)!.timestamp + 10;
    await sessions.appendEvents(id, { writerId: "w1", batch: i, events });
  }
  if (stop) {
    clock.now = T0 + 20_000;
    await sessions.stop(id);
  }
  return id;
}

storeTest("report: each signal once, with element and page; JSON and Markdown deterministic", async ({ store }) => {
  const clock = { now: T0 };
  const sessions = new Sessions({ store, now: () => clock.now });
  const id = await record(sessions, clock);
  const report = (await buildReport(sessions, id))!;
  assert.deepEqual(report.counts, { rage: 1, dead: 1, error_click: 1, thrash: 1, abandoned_form: 1 });
  assert.deepEqual(
    report.signals.map((s) => [s.kind, s.at - T0, s.element, s.page]),
    [
      ["rage", 1_000, "button#buy “Buy now”", "https://shop.example/products"],
      ["dead", 3_000, "div.promo “Free shipping”", "https://shop.example/products"],
      ["error_click", 7_000, "a “Pay | **now** <b>”", "https://shop.example/products"],
      ["thrash", 9_400, "document", "https://shop.example/products"],
      ["abandoned_form", 14_000, "input[name=email] “you@example.com”", "https://shop.example/checkout"],
    ],
  );
  assert.deepEqual(report.pages.map((p) => [p.url, p.durationMs]), [
    ["https://shop.example/products", 12_000],
    ["https://shop.example/checkout", 2_000],
  ]);
  assert.deepEqual(report.errors.map((e) => [e.at - T0, e.message]), [[7_300, "TypeError: cart is undefined"]]);
  assert.equal(report.live, false);
  assert.deepEqual(report.ended, {
    page: "https://shop.example/checkout",
    lastAction: "typed in input[name=email] “you@example.com”",
    lastActionAt: T0 + 14_000,
    reason: "stop",
  });
  assert.equal(report.truncated, undefined);
  // The end summary (what the list filters on) counted the same signals at ingest.
  const details = await sessions.details(id);
  assert.deepEqual(details?.end?.friction, report.counts);

  // Deterministic: built again, the same; the Markdown matches the stored snapshot (the id aside).
  assert.deepEqual(await buildReport(sessions, id, { limits: {} }), report, "rebuilt (custom bounds: not cached)");
  const markdown = renderReportMarkdown(report).replaceAll(id, "<id>");
  if (Deno.env.get("UPDATE_SNAPSHOTS")) await Deno.writeTextFile(SNAPSHOT, markdown);
  assert.equal(markdown, await Deno.readTextFile(SNAPSHOT));
  assert.ok(!markdown.includes("<b>"), "page text cannot put HTML into the Markdown");
});

storeTest("report: bounds truncate and say so", async ({ store }) => {
  const clock = { now: T0 };
  const sessions = new Sessions({ store, now: () => clock.now });
  const id = await record(sessions, clock);
  const byEvents = (await buildReport(sessions, id, { limits: { maxEvents: 10 } }))!;
  assert.deepEqual(byEvents.truncated, { reason: "events", limit: 10 });
  assert.equal(byEvents.endedAt, T0 + 3_000, "covers the first batch only");
  assert.equal(byEvents.counts.abandoned_form, undefined, "a truncated read decides no abandoned form");

  let ticks = 0;
  const byTime = (await buildReport(sessions, id, { limits: { maxMs: 1 }, clock: () => ticks++ }))!;
  assert.deepEqual(byTime.truncated, { reason: "time", limit: 1 });

  const bySignals = (await buildReport(sessions, id, { limits: { maxSignals: 2 } }))!;
  assert.deepEqual(bySignals.truncated, { reason: "signals", limit: 2 });
  assert.equal(bySignals.signals.length, 2);

  const byPages = (await buildReport(sessions, id, { limits: { maxPages: 1 } }))!;
  assert.deepEqual(byPages.truncated, { reason: "pages", limit: 1 });
  assert.match(renderReportMarkdown(byPages), /Truncated: the report stopped at the pages limit \(1\)/);

  assert.equal(await buildReport(sessions, `${"1".repeat(13)}${"a".repeat(12)}`), undefined, "unknown id");
});

storeTest("report: a live session is live, its forms not yet abandoned", async ({ store }) => {
  const clock = { now: T0 };
  const sessions = new Sessions({ store, now: () => clock.now });
  const id = await record(sessions, clock, { stop: false });
  const report = (await buildReport(sessions, id))!;
  assert.equal(report.live, true);
  assert.deepEqual(report.counts, { rage: 1, dead: 1, error_click: 1, thrash: 1 });
  assert.equal(report.ended.reason, undefined);
  assert.equal(report.ended.page, "https://shop.example/checkout");
  assert.match(renderReportMarkdown(report), /Status: live/);
  // The running counts the list uses while live agree.
  assert.deepEqual((await sessions.running(id)).friction, report.counts);
});

storeTest("report: an ended session's report is built once; a live one's each time", async ({ store: raw }) => {
  let fullReads = 0;
  const store = new Proxy(raw, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (name === "read") {
        return (...args: Parameters<typeof raw.read>) => {
          const from = args[1]?.from as { seqNum?: number } | undefined;
          // The whole recording is read from seq 0 with no count (details reads its first 2 records).
          if (args[0].startsWith("sessions/") && from?.seqNum === 0 && args[1]?.count !== 2) fullReads++;
          return target.read(...args);
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const clock = { now: T0 };
  const sessions = new Sessions({ store, now: () => clock.now });
  const ended = await record(sessions, clock);
  const first = (await buildReport(sessions, ended))!;
  const reads = fullReads;
  assert.ok(reads > 0);
  first.signals.length = 0; // a caller changing its copy changes nothing kept
  const again = (await buildReport(sessions, ended))!;
  assert.equal(fullReads, reads, "served from memory");
  assert.equal(again.signals.length, 5);
  const live = await record(sessions, clock, { stop: false });
  await buildReport(sessions, live);
  const afterLive = fullReads;
  await buildReport(sessions, live);
  assert.ok(fullReads > afterLive, "a live session is read again");
});
