import assert from "node:assert/strict";
import { SEEK_STEP_MS, SHORTCUT_HELP, shortcutApplies, shortcutFor } from "../../islands/player/shortcuts.ts";

Deno.test("shortcuts: space and k toggle, arrows and j/l seek 5 s, < > change speed, ? shows help", () => {
  const map = (key: string) => shortcutFor({ key });
  assert.deepEqual(map(" "), { type: "toggle" });
  assert.deepEqual(map("k"), { type: "toggle" });
  assert.deepEqual(map("K"), { type: "toggle" }, "caps lock or shift");
  assert.deepEqual(map("ArrowLeft"), { type: "seekBy", ms: -SEEK_STEP_MS });
  assert.deepEqual(map("j"), { type: "seekBy", ms: -SEEK_STEP_MS });
  assert.deepEqual(map("ArrowRight"), { type: "seekBy", ms: SEEK_STEP_MS });
  assert.deepEqual(map("l"), { type: "seekBy", ms: SEEK_STEP_MS });
  assert.deepEqual(map("<"), { type: "speed", step: -1 });
  assert.deepEqual(map(">"), { type: "speed", step: 1 });
  assert.deepEqual(map("Home"), { type: "start" });
  assert.deepEqual(map("End"), { type: "end" });
  assert.deepEqual(map("?"), { type: "help" });
  assert.deepEqual(map("Escape"), { type: "close" });
  assert.equal(map("x"), undefined);
  assert.equal(map("Enter"), undefined);
  assert.equal(SEEK_STEP_MS, 5_000);
});

Deno.test("shortcuts: chords with Ctrl, Cmd or Alt are the browser's", () => {
  assert.equal(shortcutFor({ key: "k", ctrlKey: true }), undefined);
  assert.equal(shortcutFor({ key: "l", metaKey: true }), undefined);
  assert.equal(shortcutFor({ key: "ArrowLeft", altKey: true }), undefined);
});

Deno.test("shortcuts: typing is never taken; buttons keep Space; the timeline and tabs keep their arrows", () => {
  const applies = (key: string, focus: Parameters<typeof shortcutApplies>[2]) =>
    shortcutApplies(key, shortcutFor({ key })!, focus);
  for (const key of [" ", "k", "ArrowLeft", "End", ">", "?"]) assert.equal(applies(key, "text"), false, key);
  assert.equal(applies("Escape", "text"), true, "Esc still closes the help");
  assert.equal(applies(" ", "button"), false, "Space activates the focused button instead");
  assert.equal(applies("k", "button"), true);
  assert.equal(applies("ArrowLeft", "button"), true);
  assert.equal(applies("ArrowLeft", "arrows"), false);
  assert.equal(applies("End", "arrows"), false);
  assert.equal(applies("l", "arrows"), true, "the timeline does not use j and l");
  assert.equal(applies(" ", "arrows"), true);
  assert.equal(applies(">", "arrows"), true);
  for (const key of [" ", "k", "ArrowLeft", "End", ">", "?"]) assert.equal(applies(key, "other"), true, key);
});

Deno.test("shortcuts: the help lists every key that does something", () => {
  const listed = SHORTCUT_HELP.flatMap((row) => row.keys).join(" ");
  for (const key of ["Space", "K", "J", "L", "←", "→", "<", ">", "Home", "End", "?", "Esc"]) {
    assert.ok(listed.includes(key), key);
  }
});
