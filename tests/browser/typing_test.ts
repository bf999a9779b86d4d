/**
 * Typing is recorded as it happens: text typed into a field that never loses
 * focus reaches a live viewer's SSE stream, masked, while the field still has
 * focus.
 */

import assert from "node:assert/strict";
import { browserTest, waitFor } from "../support/browser.ts";
import { followLive } from "../support/client.ts";

browserTest(
  "typing in a field that never loses focus reaches a live viewer, masked",
  async ({ server, site, browser }) => {
    const page = await browser.newPage();
    await page.goto(site.url + "/");
    const sessionId = await waitFor(
      "the session to start",
      () => page.evaluate(() => JSON.parse(sessionStorage.getItem("replaya:session") ?? "null")?.sessionId),
    );

    const inputs: Array<{ text: string; at: number }> = [];
    const abort = new AbortController();
    const viewer = followLive(server.url, sessionId, (events) => {
      for (const event of events) {
        const data = event.data as { source?: number; text?: string } | undefined;
        if (event.type === 3 && data?.source === 5 && typeof data.text === "string") {
          inputs.push({ text: data.text, at: performance.now() });
        }
      }
    }, abort.signal);
    try {
      await page.click("#card");
      await page.keyboard.type("4111 1111", { delay: 30 });
      const typedAt = performance.now();
      const arrived = await waitFor(
        "the typed text on the viewer's stream",
        () => Promise.resolve(inputs.find((i) => i.text.length === "4111 1111".length)),
      );
      assert.equal(
        await page.evaluate(() => document.activeElement?.id),
        "card",
        "the field never lost focus",
      );
      assert.match(arrived.text, /^\*+$/, "masked: only asterisks leave the browser");
      assert.ok(inputs.length > 1, `recorded as it was typed, not once at blur (${inputs.length} input events)`);
      assert.ok(inputs.every((i) => /^\**$/.test(i.text)), "no keystroke unmasked");
      console.log(
        `typing → live viewer: ${inputs.length} input events; last keystroke to viewer ${
          Math.round(arrived.at - typedAt)
        } ms`,
      );
    } finally {
      abort.abort();
      await viewer;
      await page.close();
    }
  },
);
