/**
 * REPLAYA_FRICTION_* (lib/config.ts): the friction thresholds, defaults as
 * documented, each checked against its range with a message naming the
 * variable, and passed to the service by the server.
 */

import assert from "node:assert/strict";
import { ConfigError, frictionVariable, loadConfig } from "../lib/config.ts";
import { DEFAULT_FRICTION, type FrictionConfig } from "../lib/sessions/friction.ts";
import { serverTest } from "./support/server.ts";

Deno.test("config: friction thresholds default to DEFAULT_FRICTION", () => {
  assert.deepEqual(loadConfig({}).friction, DEFAULT_FRICTION);
  assert.deepEqual(loadConfig({}).warnings, [], "the variables are known settings");
});

Deno.test("config: each REPLAYA_FRICTION_* variable sets its threshold", () => {
  const names = (Object.keys(DEFAULT_FRICTION) as Array<keyof FrictionConfig>).map(frictionVariable);
  assert.deepEqual(names, [
    "REPLAYA_FRICTION_RAGE_CLICKS",
    "REPLAYA_FRICTION_RAGE_RADIUS_PX",
    "REPLAYA_FRICTION_RAGE_WINDOW_MS",
    "REPLAYA_FRICTION_DEAD_WINDOW_MS",
    "REPLAYA_FRICTION_ERROR_WINDOW_MS",
    "REPLAYA_FRICTION_SCROLL_REVERSALS",
    "REPLAYA_FRICTION_SCROLL_WINDOW_MS",
    "REPLAYA_FRICTION_SCROLL_MIN_PX",
    "REPLAYA_FRICTION_FOCUS_REPEATS",
    "REPLAYA_FRICTION_FOCUS_WINDOW_MS",
  ]);
  const config = loadConfig({
    REPLAYA_FRICTION_RAGE_CLICKS: "5",
    REPLAYA_FRICTION_DEAD_WINDOW_MS: " 4000 ",
    REPLAYA_FRICTION_FOCUS_WINDOW_MS: "20000",
  });
  assert.deepEqual(config.friction, { ...DEFAULT_FRICTION, rageClicks: 5, deadWindowMs: 4_000, focusWindowMs: 20_000 });
});

Deno.test("config: a bad friction threshold stops the server with the variable's name and range", () => {
  const cases: Array<[string, string, RegExp]> = [
    ["REPLAYA_FRICTION_RAGE_CLICKS", "1", /REPLAYA_FRICTION_RAGE_CLICKS must be an integer from 2 to 20, got "1"/],
    ["REPLAYA_FRICTION_RAGE_CLICKS", "three", /REPLAYA_FRICTION_RAGE_CLICKS/],
    ["REPLAYA_FRICTION_DEAD_WINDOW_MS", "2.5", /REPLAYA_FRICTION_DEAD_WINDOW_MS must be an integer from 100 to 60000/],
    ["REPLAYA_FRICTION_SCROLL_MIN_PX", "-5", /REPLAYA_FRICTION_SCROLL_MIN_PX/],
    ["REPLAYA_FRICTION_FOCUS_WINDOW_MS", "9".repeat(20), /REPLAYA_FRICTION_FOCUS_WINDOW_MS/],
    ["REPLAYA_FRICTION_ERROR_WINDOW_MS", "0", /REPLAYA_FRICTION_ERROR_WINDOW_MS/],
  ];
  for (const [name, value, message] of cases) {
    assert.throws(() => loadConfig({ [name]: value }), ConfigError, `${name}=${value}`);
    assert.throws(() => loadConfig({ [name]: value }), message);
  }
});

serverTest("config: the server's sessions use the configured thresholds", ({ sessions }) => {
  assert.deepEqual(sessions.friction, { ...DEFAULT_FRICTION, rageClicks: 4, rageWindowMs: 1_500 });
  return Promise.resolve();
}, { env: { REPLAYA_FRICTION_RAGE_CLICKS: "4", REPLAYA_FRICTION_RAGE_WINDOW_MS: "1500" } });
