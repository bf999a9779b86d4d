/**
 * A synthetic session that provokes each friction signal once, over two
 * pages, for the report tests: built as rrweb events with fixed times.
 */

import type { RrwebEvent } from "@replaya/recorder/wire";

export const T0 = Date.UTC(2026, 10, 20, 10);

const el = (id: number, tagName: string, attributes: Record<string, string>, ...childNodes: unknown[]) => ({
  type: 2,
  id,
  tagName,
  attributes,
  childNodes,
});
const text = (id: number, textContent: string) => ({ type: 3, id, textContent });

function snapshot(t: number, body: unknown[]): RrwebEvent {
  return {
    type: 2,
    timestamp: T0 + t,
    data: { node: { type: 0, id: 1, childNodes: [el(2, "html", {}, el(3, "body", {}, ...body))] }, initialOffset: {} },
  };
}
const meta = (t: number, href: string): RrwebEvent => ({
  type: 4,
  timestamp: T0 + t,
  data: { href, width: 1280, height: 800 },
});
const click = (t: number, id: number, x = 100, y = 100): RrwebEvent => ({
  type: 3,
  timestamp: T0 + t,
  data: { source: 2, type: 2, id, x, y },
});
const mutation = (t: number): RrwebEvent => ({
  type: 3,
  timestamp: T0 + t,
  data: { source: 0, adds: [], removes: [], texts: [{ id: 11, value: "x" }], attributes: [] },
});
const scroll = (t: number, y: number): RrwebEvent => ({
  type: 3,
  timestamp: T0 + t,
  data: { source: 3, id: 1, x: 0, y },
});
const input = (t: number, id: number): RrwebEvent => ({
  type: 3,
  timestamp: T0 + t,
  data: { source: 5, id, text: "*****", isChecked: false },
});
const error = (t: number, message: string): RrwebEvent => ({
  type: 5,
  timestamp: T0 + t,
  data: { tag: "replaya.error", payload: { message, source: "https://shop.example/app.js", line: 3 } },
});
const move = (t: number): RrwebEvent => ({ type: 3, timestamp: T0 + t, data: { source: 1, positions: [] } });

/** The batches: page one (rage, dead, error click, scroll thrash), page two (a form typed into, never sent). */
export function frictionBatches(t0 = T0): RrwebEvent[][] {
  const batches: RrwebEvent[][] = [
    [
      meta(0, "https://shop.example/products"),
      snapshot(1, [
        el(10, "button", { id: "buy" }, text(11, "Buy now")),
        el(12, "div", { class: "promo banner" }, text(13, "Free shipping")),
        el(14, "a", { href: "/pay" }, el(15, "span", {}, text(16, "Pay | **now** <b>"))),
      ]),
      // Rage: three clicks on the button within a second (each answered by a mutation: not dead).
      click(1_000, 10),
      click(1_200, 10),
      click(1_400, 10),
      mutation(1_450),
      // Dead: a click on the banner, nothing happens for 3 s.
      click(3_000, 13, 400, 300),
    ],
    [
      move(6_500),
      // Error click: a click on the link's span, an uncaught error 300 ms later.
      click(7_000, 16, 600, 500),
      error(7_300, "TypeError: cart is undefined"),
      // Thrash: the page scrolled down and up three times within 2 s.
      scroll(9_000, 0),
      scroll(9_200, 300),
      scroll(9_400, 0),
      scroll(9_600, 300),
      scroll(9_800, 0),
    ],
    [
      meta(12_000, "https://shop.example/checkout"),
      snapshot(12_001, [
        el(
          10,
          "form",
          {},
          el(20, "input", { name: "email", placeholder: "you@example.com" }),
          el(21, "button", {}, text(22, "Send")),
        ),
      ]),
      input(13_000, 20),
      input(14_000, 20),
    ],
  ];
  return batches.map((events) => events.map((e) => ({ ...e, timestamp: e.timestamp - T0 + t0 })));
}
