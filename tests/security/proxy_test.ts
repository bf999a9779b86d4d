/**
 * Finding 7: behind N trusted proxies the client address is the entry N hops
 * from the right of X-Forwarded-For; what the client wrote further left
 * never picks its rate-limit bucket.
 */

import assert from "node:assert/strict";
import { forwardedFor, limitKey } from "../../lib/http/client.ts";
import { post, startBody } from "../support/client.ts";
import { serverTest } from "../support/server.ts";

Deno.test("security: X-Forwarded-For is read from the right, as many hops as configured", () => {
  assert.equal(forwardedFor("6.6.6.6, 203.0.113.7", 1), "203.0.113.7");
  assert.equal(forwardedFor("6.6.6.6, 203.0.113.7, 10.0.0.2", 2), "203.0.113.7");
  assert.equal(forwardedFor("203.0.113.7", 2), undefined, "fewer entries than proxies: not forwarded by all of them");
  assert.equal(forwardedFor(undefined, 1), undefined);
  assert.equal(forwardedFor(" , ,203.0.113.7 ", 1), "203.0.113.7");
});

serverTest("security: spoofed X-Forwarded-For entries do not change the rate-limit bucket", async ({ url }) => {
  const start = (xff: string) => post(`${url}/api/sessions`, startBody(), { "x-forwarded-for": xff });
  const statuses: number[] = [];
  for (let i = 0; i < 12; i++) {
    const res = await start(`10.${i}.${i}.${i}, 198.51.100.${i}, 203.0.113.7`);
    statuses.push(res.status);
    await res.body?.cancel();
  }
  assert.deepEqual(statuses.slice(0, 10), Array(10).fill(201), "the burst of 10");
  assert.deepEqual(statuses.slice(10), [429, 429], "then the same bucket, whatever was spoofed to the left");
  const other = await start("203.0.113.8");
  assert.equal(other.status, 201, "another real client has its own bucket");
  await other.body?.cancel();
}, { env: { REPLAYA_TRUST_PROXY: "1", REPLAYA_CLIENT_RATE_PER_MINUTE: "6" } });

Deno.test("security: IPv6 clients are limited by their /64, IPv4-mapped ones by their IPv4", () => {
  assert.equal(limitKey("203.0.113.7"), "203.0.113.7");
  assert.equal(limitKey("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64");
  assert.equal(limitKey("2001:0db8:0001:0002::1"), "2001:db8:1:2::/64", "leading zeros and :: expanded");
  assert.equal(limitKey("[2001:db8:1:2::ffff]"), "2001:db8:1:2::/64");
  assert.equal(limitKey("fe80::1%eth0"), "fe80:0:0:0::/64", "zone ids dropped");
  assert.equal(limitKey("2001:db8::1.2.3.4"), "2001:db8:0:0::/64");
  assert.equal(limitKey("::ffff:198.51.100.9"), "198.51.100.9");
  assert.notEqual(limitKey("2001:db8:1:2::1"), limitKey("2001:db8:1:3::1"), "another /64, another bucket");
  assert.equal(limitKey("not:an:address::x"), "not:an:address::x", "malformed: kept as it is");
});

serverTest("security: rotating through one /64 does not get a client a fresh bucket", async ({ url }) => {
  const statuses: number[] = [];
  for (let i = 0; i < 12; i++) {
    const res = await post(`${url}/api/sessions`, startBody(), {
      "x-forwarded-for": `2001:db8:7:7::${i.toString(16)}`,
    });
    statuses.push(res.status);
    await res.body?.cancel();
  }
  assert.deepEqual(statuses.slice(10), [429, 429], "one bucket for the whole /64");
  const other = await post(`${url}/api/sessions`, startBody(), { "x-forwarded-for": "2001:db8:7:8::1" });
  assert.equal(other.status, 201, "the next /64 is another client");
  await other.body?.cancel();
}, { env: { REPLAYA_TRUST_PROXY: "1", REPLAYA_CLIENT_RATE_PER_MINUTE: "6" } });

serverTest("security: without a trusted proxy X-Forwarded-For is ignored", async ({ url }) => {
  const statuses: number[] = [];
  for (let i = 0; i < 11; i++) {
    const res = await post(`${url}/api/sessions`, startBody(), { "x-forwarded-for": `198.51.100.${i}` });
    statuses.push(res.status);
    await res.body?.cancel();
  }
  assert.equal(statuses.at(-1), 429, "every request counted under the socket address");
}, { env: { REPLAYA_CLIENT_RATE_PER_MINUTE: "6" } });
