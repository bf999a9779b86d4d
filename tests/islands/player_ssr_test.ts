import assert from "node:assert/strict";
import { h } from "preact";
import { renderToString } from "preact-render-to-string";
import Player from "../../islands/Player.tsx";
import { T0 } from "./_events.ts";

Deno.test("Player: server render is the loading state with the test hooks, and needs no DOM", () => {
  const html = renderToString(h(Player, { sessionId: "01SESSION", live: true, startedAt: T0 }));
  assert.match(html, /data-testid="player"/);
  assert.match(html, /data-status="loading"/);
  assert.match(html, /data-events="0"/);
  assert.match(html, /Connecting to the live session…/);
  assert.match(html, /<button[^>]*data-testid="play-toggle"[^>]*disabled/);
  assert.match(html, /role="slider"[^>]*aria-disabled="true"/);
  assert.doesNotMatch(html, /data-testid="live-badge"|data-testid="jump-to-live"|data-testid="feed-item"/);
});

Deno.test("Player: an ended recording's server render says it is loading, not connecting", () => {
  const html = renderToString(h(Player, { sessionId: "01SESSION", live: false, startedAt: T0 }));
  assert.match(html, /Loading recording…/);
  assert.match(html, /data-testid="current-time">00:00</);
});
