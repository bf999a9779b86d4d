/**
 * MCP answers as tests read them: the untrusted-data notice first, then JSON.
 *
 * @module
 */

import assert from "node:assert/strict";
import { UNTRUSTED_NOTICE } from "../../client/untrusted.ts";

/** A tool result as the SDK's client returns it (typed here: its own types are too deep to infer). */
export type ToolText = { content: Array<{ type: string; text: string }>; isError?: boolean };

/** A tool's data: asserts the notice comes first and the JSON after it is all there is, and parses it. */
// deno-lint-ignore no-explicit-any
export function toolData(result: unknown): any {
  const r = result as ToolText;
  assert.ok(!r.isError, r.content[0]?.text);
  assert.equal(r.content.length, 2);
  assert.deepEqual(r.content[0], { type: "text", text: UNTRUSTED_NOTICE });
  assert.equal(r.content[1].type, "text");
  return JSON.parse(r.content[1].text);
}
