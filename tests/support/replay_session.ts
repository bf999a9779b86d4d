/**
 * Sessions with exactly known events for the player's browser tests: rrweb
 * events built by hand (pages, clicks, pointer moves, resizes, custom
 * events) and sent through the ingest API, so a test knows what each moment
 * of the replay must show without waiting for a visitor in real time.
 *
 * @module
 */

import { post, sendBatch, type StartedSession, startSession } from "./client.ts";

/** An rrweb event as the recorder sends it. */
export type Event = { type: number; timestamp: number; data: Record<string, unknown> };

/** Node ids of every page {@link page} builds. */
export const NODE = { heading: 7, button: 9, checkbox: 11 } as const;

/**
 * A page load at `t`: Meta (href, viewport) and a full snapshot whose body is
 * `<h1 id="heading">{heading}</h1><button id="go">Go</button><input type="checkbox" id="all">`
 * (node ids in {@link NODE}).
 */
export function page(t: number, href: string, heading: string, width = 1024, height = 640, snapshotAfter = 5): Event[] {
  const el = (id: number, tagName: string, attributes: Record<string, string>, childNodes: unknown[] = []) => ({
    type: 2,
    id,
    tagName,
    attributes,
    childNodes,
  });
  const text = (id: number, textContent: string) => ({ type: 3, id, textContent });
  return [
    { type: 4, timestamp: t, data: { href, width, height } },
    {
      type: 2,
      timestamp: t + snapshotAfter,
      data: {
        node: {
          type: 0,
          id: 1,
          childNodes: [
            { type: 1, id: 2, name: "html", publicId: "", systemId: "" },
            el(3, "html", {}, [
              el(4, "head", {}, [el(5, "style", {}, [{
                type: 3,
                id: 6,
                textContent: "body{font-family:sans-serif;margin:2rem}h1{font-size:3rem}",
                isStyle: true,
              }])]),
              el(12, "body", {}, [
                el(NODE.heading, "h1", { id: "heading" }, [text(8, heading)]),
                el(NODE.button, "button", { id: "go" }, [text(10, "Go")]),
                el(NODE.checkbox, "input", { type: "checkbox", id: "all" }),
              ]),
            ]),
          ],
        },
        initialOffset: { left: 0, top: 0 },
      },
    },
  ];
}

/** A click on node `id`. */
export function click(t: number, id: number = NODE.button): Event {
  return { type: 3, timestamp: t, data: { source: 2, type: 2, id, x: 40, y: 90 } };
}

/** A pointer move. */
export function move(t: number, x = 100, y = 100): Event {
  return { type: 3, timestamp: t, data: { source: 1, positions: [{ x, y, id: 12, timeOffset: 0 }] } };
}

/** The visitor resized the window. */
export function resize(t: number, width: number, height: number): Event {
  return { type: 3, timestamp: t, data: { source: 4, width, height } };
}

/** The heading's text changed (a DOM mutation: not the visitor's activity). */
export function setHeading(t: number, value: string): Event {
  return {
    type: 3,
    timestamp: t,
    data: { source: 0, texts: [{ id: 8, value }], adds: [], removes: [], attributes: [] },
  };
}

/** A recorder custom event (`replaya.console`, `replaya.network`, …). */
export function custom(t: number, tag: string, payload: Record<string, unknown>): Event {
  return { type: 5, timestamp: t, data: { tag, payload } };
}

/** Starts a session and sends `events` as one batch; stops it unless `live`. Returns the session. */
export async function seedSession(
  url: string,
  events: Event[],
  options: { live?: boolean } = {},
): Promise<StartedSession> {
  const session = await startSession(url);
  const res = await sendBatch(url, session, { seq: 0, events });
  if (res.status !== 200) throw new Error(`batch refused: ${res.status} ${await res.text()}`);
  if (!options.live) await stopSession(url, session);
  return session;
}

/** Ends a session as the recorder does. */
export async function stopSession(url: string, session: StartedSession): Promise<void> {
  const res = await post(`${url}/api/sessions/${session.sessionId}/stop`, {}, {
    authorization: `Bearer ${session.token}`,
  });
  if (res.status !== 200) throw new Error(`stop refused: ${res.status} ${await res.text()}`);
}
