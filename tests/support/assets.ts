/**
 * What the asset-cache tests share: a recorded page as rrweb's full snapshot,
 * and a local site that serves a few files and notes what it was asked for.
 *
 * @module
 */

import type { RrwebEvent } from "@replaya/recorder/wire";

/** rrweb's full snapshot of a document whose one child is a body with `children` (ids are the caller's). */
export function bodySnapshot(
  children: unknown[],
  options: { bodyAttributes?: Record<string, string>; timestamp?: number } = {},
): RrwebEvent {
  return {
    type: 2,
    timestamp: options.timestamp ?? Date.now(),
    data: {
      node: {
        type: 0,
        id: 1,
        childNodes: [{
          type: 2,
          id: 2,
          tagName: "body",
          attributes: options.bodyAttributes ?? {},
          childNodes: children,
        }],
      },
      initialOffset: { top: 0, left: 0 },
    },
  };
}

/** A site on a free loopback port serving `files` (path → body and type), 404 otherwise; `requests` lists paths asked. */
export function serveSite(files: Record<string, { body: BodyInit | Uint8Array; type: string }>) {
  const requests: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const path = new URL(request.url).pathname;
    requests.push(path);
    const file = files[path];
    if (!file) return new Response("missing", { status: 404 });
    return new Response(file.body as BodyInit, { headers: { "content-type": file.type } });
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, requests, close: () => server.shutdown() };
}
