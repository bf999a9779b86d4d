/**
 * Page URLs of single-page apps: every page view's URL (rrweb's Meta on a page
 * load, the recorder's `replaya.page` on an in-page navigation) rides in the
 * batch's `g` header, ends up in the end summary, and the list's URL filter
 * matches it.
 */

import assert from "node:assert/strict";
import { storeTest } from "../support/backends.ts";
import { Sessions } from "../../lib/sessions/service.ts";
import { listSessions } from "../../lib/sessions/list.ts";
import { batchStatsOf, encodeEvents, MAX_PAGE_URLS_HEADER } from "../../lib/sessions/codec.ts";
import { MAX_PAGE_URL_LENGTH, MAX_PAGE_URLS, statsOf } from "../../lib/sessions/events.ts";
import type { RrwebEvent } from "@replaya/recorder/wire";
import { countSignals, detectFriction, newFrictionState } from "../../lib/sessions/friction.ts";
import { buildReport } from "../../lib/sessions/report.ts";

const meta = (t: number, href: unknown): RrwebEvent => ({ type: 4, timestamp: t, data: { href, width: 1, height: 1 } });
/** What the recorder writes for an in-page navigation. */
const nav = (t: number, href: unknown): RrwebEvent => ({
  type: 5,
  timestamp: t,
  data: { tag: "replaya.page", payload: { href } },
});

Deno.test("page URLs: distinct per batch, bounded, cut, non-strings skipped", () => {
  const stats = statsOf([
    meta(1, "https://a.example/"),
    { type: 2, timestamp: 2, data: {} },
    nav(3, "https://a.example/products"),
    meta(4, "https://a.example/"),
    meta(5, 42),
    nav(6, ""),
    nav(7, { not: "a string" }),
    { type: 5, timestamp: 8, data: { tag: "replaya.page" } },
  ]);
  assert.equal(stats.p, 7, "every Meta and replaya.page is a page view");
  assert.deepEqual(stats.g, ["https://a.example/", "https://a.example/products"]);
  assert.equal(statsOf([{ type: 3, timestamp: 1, data: {} }]).g, undefined, "no pages, no list");
  const many = statsOf(
    Array.from({ length: 500 }, (_, i) => meta(i + 1, `https://a.example/${i}/${"x".repeat(5000)}`)),
  );
  assert.equal(many.g!.length, MAX_PAGE_URLS);
  assert.ok(many.g!.every((u) => u.length === MAX_PAGE_URL_LENGTH));
});

Deno.test("page URLs: the g header round-trips; a damaged one is no URL, never an error", async () => {
  const [record] = await encodeEvents({
    writerId: "w",
    batch: 0,
    events: [meta(1000, "https://a.example/"), meta(1001, 'https://a.example/"quoted",')],
  });
  const stored = { seqNum: 0, timestamp: 1000, headers: record.headers!, body: record.body };
  assert.deepEqual(batchStatsOf(stored)!.g, ["https://a.example/", 'https://a.example/"quoted",']);
  const expected = [[], [], [], ["x", "y"]];
  // Headers share 1 KiB of the record with the body's cap: many long URLs keep as many as fit.
  const [long] = await encodeEvents({
    writerId: "w",
    batch: 1,
    events: [
      ...Array.from({ length: 10 }, (_, i) => meta(1000 + i, `https://a.example/${i}/${"x".repeat(400)}`)),
      meta(1030, "https://a.example/é" + "é".repeat(400)), // not what a browser sends: too long even when cut
      meta(1031, "https://a.example/short"),
    ],
  });
  const g = new Map(long.headers).get("g")!;
  assert.ok(new TextEncoder().encode(g).length <= MAX_PAGE_URLS_HEADER, `${g.length} bytes`);
  assert.deepEqual(JSON.parse(g).map((u: string) => u.slice(0, 21)), [
    "https://a.example/0/x",
    "https://a.example/sho",
  ]);
  for (const [i, bad] of ["not json", '{"a":1}', "[1,null,{}]", "[" + '"x",'.repeat(1000) + '"y"]'].entries()) {
    const headers = record.headers!.map(([k, v]) => [k, k === "g" ? bad : v] as [string, string]);
    const stats = batchStatsOf({ ...stored, headers })!;
    assert.deepEqual(stats.g, expected[i], bad.slice(0, 20));
    assert.equal(stats.p, 2, "the counts are still read");
  }
});

storeTest(
  "page URLs: an ended session is found by a route it navigated to, not only by its first page",
  async ({ store }) => {
    let now = Date.UTC(2026, 10, 20, 10);
    const sessions = new Sessions({ store, now: () => now, leaseMs: Infinity });
    const spa = await sessions.create({ url: "https://app.example/" });
    const other = await sessions.create({ url: "https://app.example/settings" });
    await sessions.appendEvents(spa.id, {
      writerId: "w",
      batch: 0,
      events: [meta(now, "https://app.example/"), nav(now + 1, "https://app.example/reports/quarterly")],
    });
    await sessions.appendEvents(spa.id, {
      writerId: "w",
      batch: 1,
      events: [nav(now + 2, "https://app.example/billing")],
    });
    // A retried batch (same writer and seq) adds nothing twice.
    await sessions.appendEvents(spa.id, {
      writerId: "w",
      batch: 1,
      events: [nav(now + 2, "https://app.example/billing")],
    });
    now += 1000;
    const live = await listSessions(sessions, { filter: { urlContains: "quarterly" }, now });
    assert.deepEqual(
      live.rows,
      [],
      "a live session matches by its first page only (its routes come with the end summary)",
    );
    await sessions.stop(spa.id);
    await sessions.stop(other.id);
    const found = await listSessions(sessions, { filter: { urlContains: "QUARTERLY" }, now });
    assert.deepEqual(found.rows.map((r) => r.id), [spa.id]);
    assert.equal(found.rows[0].end?.pages, 3);
    assert.deepEqual(found.rows[0].end?.urls, [
      "https://app.example/",
      "https://app.example/reports/quarterly",
      "https://app.example/billing",
    ]);
    assert.deepEqual(
      (await listSessions(sessions, { filter: { urlContains: "settings" }, now })).rows.map((r) => r.id),
      [other.id],
      "the first page still matches",
    );
  },
);

Deno.test("page views: an in-page navigation answers a click (no dead click), like a page load", () => {
  const click = (t: number): RrwebEvent => ({ type: 3, timestamp: t, data: { source: 2, type: 2, id: 7, x: 1, y: 1 } });
  const move = (t: number): RrwebEvent => ({ type: 3, timestamp: t, data: { source: 1, positions: [] } });
  const dead = (events: RrwebEvent[]) => countSignals(detectFriction(events, newFrictionState())).dead ?? 0;
  assert.equal(dead([click(1000), move(5000)]), 1, "unanswered: dead");
  assert.equal(dead([click(1000), nav(1200, "https://app.example/next"), move(5000)]), 0);
  assert.equal(dead([click(1000), meta(1200, "https://app.example/next"), move(5000)]), 0);
});

storeTest("page views: the report lists a single-page app's routes as its pages", async ({ store }) => {
  const t0 = Date.UTC(2026, 10, 20, 10);
  let now = t0;
  const sessions = new Sessions({ store, now: () => now, leaseMs: Infinity });
  const { id } = await sessions.create({ url: "https://app.example/" });
  await sessions.appendEvents(id, {
    writerId: "w",
    batch: 0,
    events: [
      meta(t0, "https://app.example/"),
      { type: 2, timestamp: t0 + 1, data: { node: { type: 0, id: 1, childNodes: [] } } },
      nav(t0 + 4000, "https://app.example/reports"),
      nav(t0 + 9000, "https://app.example/"),
    ],
  });
  now = t0 + 10_000;
  await sessions.stop(id);
  const report = (await buildReport(sessions, id))!;
  assert.deepEqual(report.pages.map((p) => [p.url, p.at - t0]), [
    ["https://app.example/", 0],
    ["https://app.example/reports", 4000],
    ["https://app.example/", 9000],
  ]);
});
