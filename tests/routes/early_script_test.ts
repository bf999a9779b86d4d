import assert from "node:assert/strict";
import { serverTest } from "../support/server.ts";
import { startSession } from "../support/client.ts";
import { readManifest } from "../../lib/islands/manifest.ts";

const manifest = await readManifest();

serverTest(
  "the session page preloads the player's early script first and runs it right after the island",
  async ({ url }) => {
    const early = manifest?.early?.Player;
    assert.ok(early, "the build made the Player's early script");
    const s = await startSession(url);
    const res = await fetch(`${url}/sessions/${s.sessionId}`);
    const html = await res.text();
    assert.equal(res.status, 200);
    const head = html.slice(0, html.indexOf("</head>"));
    const preload = head.indexOf(`<link rel="preload" as="script" href="${early}"`);
    assert.ok(preload >= 0 && preload < head.indexOf('rel="stylesheet"'), "preloaded before the stylesheets");
    const island = html.indexOf('data-island="Player"');
    const script = html.indexOf(`<script src="${early}"></script>`);
    assert.ok(island >= 0 && script > island, "a classic script after the island's markup and props");
    // It is served like every bundle, and it is a classic script: no import statements.
    const code = await (await fetch(`${url}${early}`)).text();
    assert.doesNotMatch(code, /\bimport\b/);
    assert.match(code, /EventSource/);
  },
);
