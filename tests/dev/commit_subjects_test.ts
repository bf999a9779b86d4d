import assert from "node:assert/strict";
import { subjectProblem } from "../../dev/commit_subjects.ts";

Deno.test("commit subjects: `area: what changed`, at most 72 characters", () => {
  for (const ok of ["player: seek by timestamp", "lib/store: key hashed names", "ci: run the fuzz pass", "a: b"]) {
    assert.equal(subjectProblem(ok), undefined, ok);
  }
  assert.match(subjectProblem("x: " + "y".repeat(70)) ?? "", /73 characters/);
  assert.match(subjectProblem("Player: seek by timestamp") ?? "", /area: what changed/, "the area is lower case");
  assert.match(subjectProblem("seek by timestamp") ?? "", /area: what changed/, "no area");
  assert.match(subjectProblem("player:seek") ?? "", /area: what changed/, "a space after the colon");
  assert.match(subjectProblem("player: ") ?? "", /area: what changed/, "then words");
});
