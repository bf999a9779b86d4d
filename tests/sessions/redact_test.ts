/**
 * Server-side redaction (lib/sessions/redact.ts): PII in every place a
 * recording carries it is replaced, look-alikes are not, the DOM structure is
 * untouched, hostile strings stay linear, and extra patterns are validated.
 */

import assert from "node:assert/strict";
import { createRedactor, ibanValid, luhn, redactEvents, validatePattern } from "../../lib/sessions/redact.ts";
import type { RrwebEvent } from "@replaya/recorder/wire";
import { Sessions } from "../../lib/sessions/service.ts";
import { streamOf } from "../../lib/sessions/ids.ts";
import { gunzip } from "../../lib/bytes.ts";
import { readAll, type StreamStore, withPrefix } from "../../lib/store/mod.ts";
import { storeTest } from "../support/backends.ts";

const r = createRedactor();

/** PII, one of each kind, and the marker it becomes. */
export const PII = {
  email: "jane.doe+shop@example.co.uk",
  phone: "+44 20 7946 0958",
  card: "4111 1111 1111 1111",
  iban: "DE89 3704 0044 0532 0130 00",
  token: "Bearer s3cr3tT0kenValue_42",
  jwt: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk",
};

Deno.test("redact: each kind is replaced with its marker, inside text", () => {
  for (const [kind, value] of Object.entries(PII)) {
    assert.equal(r.text(`before ${value} after`), `before [redacted:${kind}] after`, kind);
  }
  assert.equal(r.text("(415) 555-2671 or 415.555.2671"), "[redacted:phone] or [redacted:phone]");
  assert.equal(r.text("5500-0000-0000-0004"), "[redacted:card]");
  assert.equal(r.text("GB82WEST12345698765432"), "[redacted:iban]");
  assert.equal(r.text("mailto:a@b.io?subject=hi"), "mailto:[redacted:email]?subject=hi");
  assert.equal(r.text("https://x.test/u/jane@example.com/edit"), "https://x.test/u/[redacted:email]/edit");
});

Deno.test("redact: look-alikes stay (Luhn-invalid numbers, non-IBANs, versions, timestamps, dates, addresses)", () => {
  const keep = [
    "4111 1111 1111 1112", // fails Luhn
    "1733234567890", // a millisecond timestamp
    "1733234567", // seconds
    "2026-12-03T14:04:50.123Z",
    "2026-12-03 14:04:50",
    "v1.2.3",
    "10.0.19041.1",
    "rrweb@2.0.0-alpha.17", // a package name, no TLD
    "192.168.100.1",
    "DE89 3704 0044 0532 0130 01", // IBAN with a wrong check
    "HELLO WORLD ABCD EFGH", // IBAN shape, letters
    "ISBN 978-3-16-148410-0",
    "order #12345678",
    "width: 1234567890px",
    "bearer", // the word alone
    "eyJ alone",
    "user@localhost", // no TLD
    "/img/g1.png 1x, /img/g1@2x.png 2x", // a srcset: file names, not addresses
    "icon@3x.webp",
    "data:image/png;base64,4111111111111111aGVsbG8=", // data URLs are binary payloads
  ];
  for (const value of keep) assert.equal(r.text(value), value, value);
});

Deno.test("redact: checksums", () => {
  assert.ok(luhn("4111111111111111"));
  assert.ok(!luhn("4111111111111112"));
  assert.ok(!luhn("4111")); // too short
  assert.ok(ibanValid("DE89370400440532013000"));
  assert.ok(ibanValid("GB82 WEST 1234 5698 7654 32"));
  assert.ok(!ibanValid("GB82WEST12345698765431"));
});

/** A recording with PII in every place one carries it. */
function corpus(): RrwebEvent[] {
  const t = 1_764_770_690_000;
  return [
    { type: 4, timestamp: t, data: { href: `https://shop.test/account?email=${PII.email}`, width: 800, height: 600 } },
    {
      type: 2,
      timestamp: t + 1,
      data: {
        node: {
          type: 0,
          id: 1,
          childNodes: [
            { type: 1, id: 2, name: "html", publicId: "", systemId: "" },
            {
              type: 2,
              id: 3,
              tagName: "body",
              attributes: { "data-user": PII.email, title: `call ${PII.phone}`, class: "v1.2.3" },
              childNodes: [
                { type: 3, id: 4, textContent: `Card ${PII.card} and IBAN ${PII.iban}` },
                {
                  type: 2,
                  id: 5,
                  tagName: "input",
                  attributes: { type: "text", value: PII.email },
                  childNodes: [],
                },
                {
                  type: 2,
                  id: 6,
                  tagName: "img",
                  attributes: { src: "data:image/png;base64,eyJ4111111111111111" },
                  childNodes: [],
                },
              ],
            },
          ],
        },
        initialOffset: { left: 0, top: 0 },
      },
    },
    {
      type: 3,
      timestamp: t + 2,
      data: {
        source: 0,
        texts: [{ id: 4, value: `now ${PII.phone}` }],
        attributes: [{ id: 3, attributes: { "aria-label": PII.jwt, style: { color: "red" }, hidden: null } }],
        removes: [],
        adds: [{ parentId: 3, nextId: null, node: { type: 3, id: 7, textContent: PII.iban } }],
      },
    },
    { type: 3, timestamp: t + 3, data: { source: 5, id: 5, text: PII.card, isChecked: false } },
    { type: 5, timestamp: t + 4, data: { tag: "replaya.console", payload: { level: "log", args: [PII.token] } } },
    {
      type: 5,
      timestamp: t + 5,
      data: { tag: "replaya.error", payload: { message: `failed for ${PII.email}`, stack: `at ${PII.jwt}` } },
    },
    {
      type: 5,
      timestamp: t + 6,
      data: {
        tag: "replaya.network",
        payload: { type: "fetch", method: "GET", url: `https://api.test/users/${PII.email}`, status: 200 },
      },
    },
    {
      type: 5,
      timestamp: t + 7,
      data: { tag: "replaya.identify", payload: { userId: "user-42", traits: { email: PII.email, phone: PII.phone } } },
    },
    { type: 5, timestamp: t + 8, data: { tag: "replaya.track", payload: { name: "paid", props: { iban: PII.iban } } } },
    { type: 6, timestamp: t + 9, data: { plugin: "rrweb/console@1", payload: { level: "warn", payload: [PII.jwt] } } },
  ];
}

Deno.test("redact: a corpus with PII in every place keeps none of it, and its structure", async () => {
  const events = corpus();
  const redacted = await redactEvents(corpus(), r);
  const json = JSON.stringify(redacted);
  for (const [kind, value] of Object.entries(PII)) {
    assert.ok(!json.includes(value), `${kind} left in ${json}`);
    assert.ok(json.includes(`[redacted:${kind}]`));
  }
  // Same keys, numbers, node ids and types; only strings that held PII differ.
  const mark = (v: unknown) => JSON.parse(JSON.stringify(v), (_k, x) => typeof x === "string" ? "s" : x);
  assert.deepEqual(mark(redacted), mark(events));
  const body = (redacted[1].data as { node: { childNodes: { attributes?: Record<string, string> }[] } }).node;
  assert.equal(body.childNodes[1].attributes?.class, "v1.2.3");
  assert.ok(json.includes('"tagName":"input"'));
  assert.ok(json.includes('"userId":"user-42"')); // the identity is kept
  assert.ok(json.includes("data:image/png;base64,eyJ4111111111111111")); // binary payloads are left alone
});

Deno.test("redact: deep nesting does not overflow the stack", async () => {
  let node: Record<string, unknown> = { type: 3, id: 0, textContent: PII.email };
  for (let i = 1; i < 100_000; i++) node = { type: 2, id: i, tagName: "div", childNodes: [node] };
  const [event] = await redactEvents([{ type: 2, timestamp: 1, data: { node } }], r);
  assert.ok(!JSON.stringify(event).includes(PII.email));
});

Deno.test("redact: hostile huge strings are scanned in linear time (work grows with length, not its square)", () => {
  // Bounded quantifiers and boundary anchors: each position is tried a bounded number of times. Measured as
  // the ratio of two sizes (not against a wall-clock threshold): quadratic work would be ~10x per 10x in size.
  const shapes = ["a", "1", "eyJ", "Bearer ", "+1 ", "a@b.", "DE89", "4 ", "a.b@c-"];
  for (const shape of shapes) {
    const time = (n: number) => {
      const s = shape.repeat(Math.ceil(n / shape.length));
      let best = Infinity; // the least of three: a busy machine slows runs, it never speeds one up
      for (let i = 0; i < 3; i++) {
        const start = performance.now();
        r.text(s);
        best = Math.min(best, performance.now() - start);
      }
      return best;
    };
    time(30_000); // warm up
    const small = Math.max(time(300_000), 1);
    const big = time(3_000_000);
    assert.ok(big / small < 50, `${JSON.stringify(shape)}: 300k ${small.toFixed(1)} ms, 3M ${big.toFixed(1)} ms`);
  }
});

Deno.test("redact: extra patterns are applied and validated", () => {
  const custom = createRedactor([{ name: "order", source: String.raw`ORD-\d{8}` }]);
  assert.equal(custom.text("ref ORD-12345678, mail a@b.io"), "ref [redacted:order], mail [redacted:email]");
  assert.equal(validatePattern(String.raw`ORD-\d{8}`), undefined);
  // Nested quantifiers are safe on RE2 (linear whatever the input; tests/security/redaction_test.ts times them).
  assert.equal(validatePattern("(a+)+$"), undefined);
  assert.equal(validatePattern(String.raw`(\w*)*x`), undefined);
  assert.equal(validatePattern("(a|aa)*b"), undefined);
  assert.match(validatePattern(String.raw`(a)\1`) ?? "", new RegExp("backreference"));
  assert.match(validatePattern("(?<!x)a") ?? "", /not a valid RE2/); // look-arounds: not linear, not in RE2
  assert.match(validatePattern("a*") ?? "", new RegExp("empty"));
  assert.match(validatePattern("[") ?? "", /not a valid/);
  assert.match(validatePattern("x".repeat(201)) ?? "", new RegExp("characters"));
});

/** Every stored body of a session, inflated where gzip'd, as text. */
async function storedText(store: StreamStore, id: string): Promise<string> {
  let out = "";
  for await (const record of readAll(store, streamOf(id))) {
    const gz = record.body[0] === 0x1f && record.body[1] === 0x8b;
    out += new TextDecoder().decode(gz ? await gunzip(record.body, 64 * 1024 * 1024) : record.body);
    out += JSON.stringify(record.headers);
  }
  return out;
}

storeTest(
  "redact: the session service stores no PII (meta and events), unless the project is exempt",
  async ({ store, prefix }) => {
    const sessions = new Sessions({
      store: withPrefix(store, prefix),
      redaction: { redactor: r, skipProjects: new Set(["internal"]) },
    });
    const url = `https://shop.test/?email=${PII.email}`;
    const traits = { phone: PII.phone };
    const meta = await sessions.create({ url, referrer: `https://mail.test/${PII.email}`, traits, project: "shop" });
    await sessions.appendEvents(meta.id, { writerId: "w", batch: 0, events: corpus() });
    await sessions.stop(meta.id);
    const stored = await storedText(withPrefix(store, prefix), meta.id);
    for (const [kind, value] of Object.entries(PII)) assert.ok(!stored.includes(value), `${kind} stored`);
    assert.ok(stored.includes("[redacted:email]"));
    assert.equal(traits.phone, PII.phone, "the caller's traits object is not changed");

    // A fresh service (nothing in memory) finds the project in the meta record.
    const exempt = await sessions.create({ url, project: "internal" });
    const again = new Sessions({
      store: withPrefix(store, prefix),
      redaction: { redactor: r, skipProjects: new Set(["internal"]) },
    });
    await again.appendEvents(exempt.id, { writerId: "w", batch: 0, events: corpus() });
    assert.ok((await storedText(withPrefix(store, prefix), exempt.id)).includes(PII.email));
    await again.stop(exempt.id);
  },
);

Deno.test("redact: percent-encoded PII in URLs", () => {
  assert.equal(
    r.text("https://x.test/a?email=jane.doe%40example.com&to=%2B44%2020%207946%200958&q=ok%20fine"),
    "https://x.test/a?email=[redacted:email]&to=[redacted:phone]&q=ok%20fine",
  );
  assert.equal(r.text("width: 100%; height: 50%"), "width: 100%; height: 50%");
  assert.equal(r.text("/search?q=card%204111%201111%201111%201111"), "/search?q=card%20[redacted:card]");
});
