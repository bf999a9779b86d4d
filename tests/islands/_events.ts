/**
 * Hand-built rrweb events shaped like the recorder's (rrweb 2.x serialization),
 * for the player's unit tests.
 */
import type { RrwebEvent } from "@replaya/recorder/wire";

/** Session start used by the fixtures. */
export const T0 = 1_700_000_000_000;

/** rrweb Meta event: a page (re)load at `href`. */
export function meta(offset: number, href = "https://shop.example/", width = 1280, height = 800): RrwebEvent {
  return { type: 4, timestamp: T0 + offset, data: { href, width, height } };
}

/**
 * rrweb FullSnapshot of a small page:
 * ```
 * #1 document
 *   #2 <!doctype html>
 *   #3 <html>
 *     #4 <head> #5 <style> #6 "body{color:red}"
 *     #7 <body>
 *       #8 <button id="buy"> #9 <span> #10 "Buy now"
 *       #11 <input name="email" placeholder="Email" value="****">
 *       #12 <a href="/pricing"> #13 "Pricing"
 *       #14 <div class="card promo"> #15 <svg>
 *       #16 <textarea id="note"> #17 "****"
 *       #18 <div role="button" aria-label="Close dialog">
 * ```
 */
export function fullSnapshot(offset: number): RrwebEvent {
  const el = (id: number, tagName: string, attributes: Record<string, string> = {}, childNodes: unknown[] = []) => ({
    type: 2,
    id,
    tagName,
    attributes,
    childNodes,
  });
  const text = (id: number, textContent: string, isStyle?: true) => ({ type: 3, id, textContent, isStyle });
  return {
    type: 2,
    timestamp: T0 + offset,
    data: {
      node: {
        type: 0,
        id: 1,
        childNodes: [
          { type: 1, id: 2, name: "html", publicId: "", systemId: "" },
          el(3, "html", {}, [
            el(4, "head", {}, [el(5, "style", {}, [text(6, "body{color:red}", true)])]),
            el(7, "body", {}, [
              el(8, "button", { id: "buy" }, [el(9, "span", {}, [text(10, "  Buy\n now ")])]),
              el(11, "input", { name: "email", placeholder: "Email", value: "****" }),
              el(12, "a", { href: "/pricing" }, [text(13, "Pricing")]),
              el(14, "div", { class: "card promo" }, [el(15, "svg")]),
              el(16, "textarea", { id: "note" }, [text(17, "****")]),
              el(18, "div", { role: "button", "aria-label": "Close dialog" }),
            ]),
          ]),
        ],
      },
      initialOffset: { left: 0, top: 0 },
    },
  };
}

/** rrweb IncrementalSnapshot / MouseInteraction Click on node `id`. */
export function click(offset: number, id: number): RrwebEvent {
  return { type: 3, timestamp: T0 + offset, data: { source: 2, type: 2, id, x: 10, y: 10 } };
}

/** rrweb IncrementalSnapshot / Input (masked by the recorder). */
export function input(offset: number, id: number, text = "****", userTriggered?: boolean): RrwebEvent {
  return { type: 3, timestamp: T0 + offset, data: { source: 5, id, text, isChecked: false, userTriggered } };
}

/** rrweb IncrementalSnapshot / MouseMove. */
export function mouseMove(offset: number): RrwebEvent {
  return { type: 3, timestamp: T0 + offset, data: { source: 1, positions: [{ x: 1, y: 2, id: 7, timeOffset: -10 }] } };
}

/** rrweb IncrementalSnapshot / Mutation. */
export function mutation(
  offset: number,
  changes: { adds?: unknown[]; removes?: unknown[]; texts?: unknown[]; attributes?: unknown[] },
): RrwebEvent {
  return {
    type: 3,
    timestamp: T0 + offset,
    data: { source: 0, adds: [], removes: [], texts: [], attributes: [], ...changes },
  };
}

/** rrweb Custom event as the recorder writes it. */
export function custom(offset: number, tag: string, payload: Record<string, unknown>): RrwebEvent {
  return { type: 5, timestamp: T0 + offset, data: { tag, payload } };
}
