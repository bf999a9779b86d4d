import assert from "node:assert/strict";
import { encodeBody, envelopeBytes, fitCount, KEEPALIVE_MAX_BODY, keepaliveBudget } from "../../recorder/src/batch.ts";
import { EventBuffer } from "../../recorder/src/buffer.ts";
import { utf8Length } from "../../recorder/src/size.ts";

Deno.test("utf8Length matches TextEncoder", () => {
  const cases = [
    "",
    "abc",
    "é",
    "€",
    "😀",
    "a😀b€é",
    "\ud800x",
    "x\udc00",
    "ab\ud800",
    "\x7f",
    "\x80",
    "ascii first, then é",
  ];
  for (const s of cases) {
    assert.equal(
      utf8Length(s),
      new TextEncoder().encode(s).length,
      JSON.stringify(s),
    );
  }
});

Deno.test("encodeBody produces the contract's JSON body", () => {
  const body = encodeBody("w1", 3, 1234, [
    '{"type":3,"timestamp":1}',
    '{"type":3,"timestamp":2}',
  ]);
  assert.deepEqual(JSON.parse(body), {
    writerId: "w1",
    seq: 3,
    sentAt: 1234,
    events: [{ type: 3, timestamp: 1 }, { type: 3, timestamp: 2 }],
  });
  assert.deepEqual(
    JSON.parse(encodeBody('we"ird', 0, 1, [])).writerId,
    'we"ird',
  );
});

Deno.test("fitCount counts a comma per item and always takes one", () => {
  assert.equal(fitCount([10, 10, 10], 22), 2);
  assert.equal(fitCount([10, 10, 10], 21), 1);
  assert.equal(fitCount([100, 1], 10), 1, "oversized first item goes alone");
  assert.equal(fitCount([], 10), 0);
});

Deno.test("keepalive pieces stay within 60 KiB of body, mixed sizes and multibyte text", () => {
  const writerId = "0123456789abcdef0123456789abcdef";
  const buf = new EventBuffer(1e9);
  let seed = 7;
  const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  for (let i = 0; i < 600; i++) {
    const pad = Math.floor(rnd() * 3000);
    buf.push({
      type: 3,
      timestamp: 1_700_000_000_000 + i,
      data: { t: (i % 3 ? "x" : "€").repeat(pad) },
    });
  }
  const budget = keepaliveBudget(writerId);
  assert.equal(budget, KEEPALIVE_MAX_BODY - envelopeBytes(writerId));
  let events = 0;
  let pieces = 0;
  for (let b = buf.seal(budget); b; b = buf.seal(budget)) {
    const body = encodeBody(
      writerId,
      b.seq,
      Date.now(),
      b.entries.map((e) => e.json),
    );
    const bytes = new TextEncoder().encode(body).length;
    assert.ok(bytes <= KEEPALIVE_MAX_BODY, `piece ${b.seq} is ${bytes} bytes`);
    assert.equal(b.seq, pieces, "each piece its own seq");
    events += JSON.parse(body).events.length;
    pieces++;
  }
  assert.equal(events, 600);
  assert.ok(pieces > 10);
});
