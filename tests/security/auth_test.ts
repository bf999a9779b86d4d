/**
 * Findings 3, 4, 5, 8 and 9: every method goes through login, streams
 * release what they hold however they end, login redirects stay on this
 * server, wrong tokens are throttled (and once the shared budget is spent,
 * only clients that logged in before keep their own), and a logged-out cookie
 * is dead everywhere.
 */

import assert from "node:assert/strict";
import { LoginThrottle } from "../../lib/auth/login_throttle.ts";
import { REVOKED_STREAM } from "../../lib/auth/revocations.ts";
import { safeNext } from "../../routes/pages.tsx";
import { waitFor } from "../support/browser.ts";
import { fakeEvents, openRawStream, sendBatch, startSession } from "../support/client.ts";
import { ADMIN, login, logout } from "../support/login.ts";
import { serverTest, serveStore } from "../support/server.ts";

const withLogin = { env: { REPLAYA_ADMIN_TOKEN: ADMIN } };

async function liveViewers(url: string, headers: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { headers })).text();
  return Number(text.match(/^replaya_live_viewers (\d+)/m)?.[1]);
}

serverTest("security: HEAD goes through login like GET", async ({ url }) => {
  const s = await startSession(url);
  for (
    const path of [`/api/sessions/${s.sessionId}/live`, `/api/sessions/${s.sessionId}/events`, "/api/sessions/feed"]
  ) {
    const res = await fetch(url + path, { method: "HEAD" });
    assert.equal(res.status, 401, `HEAD ${path}`);
  }
  const page = await fetch(`${url}/sessions/${s.sessionId}`, { method: "HEAD", redirect: "manual" });
  assert.equal(page.status, 303, "HEAD of a page redirects to the login like GET");
  for (const method of ["PUT", "PATCH", "POST"]) {
    const res = await fetch(`${url}/api/sessions/${s.sessionId}/live`, { method });
    assert.equal(res.status, 401, `${method} of a read route`);
    await res.body?.cancel();
  }
  const bearer = { authorization: `Bearer ${ADMIN}` };
  assert.equal(await liveViewers(url, bearer), 0, "no watcher was registered");
}, withLogin);

serverTest("security: HEAD, and live streams whose viewers leave, release every watcher", async ({ url }) => {
  const s = await startSession(url);
  assert.equal((await sendBatch(url, s, { seq: 0, events: fakeEvents(3) })).status, 200);
  for (let i = 0; i < 20; i++) {
    const res = await fetch(`${url}/api/sessions/${s.sessionId}/live`, { method: "HEAD" });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/event-stream");
  }
  const head = await fetch(`${url}/api/sessions/feed`, { method: "HEAD" });
  assert.equal(head.status, 200);
  const streams = await Promise.all(
    Array.from({ length: 10 }, () => openRawStream(url, `/api/sessions/${s.sessionId}/live`)),
  );
  let seen = -1;
  await waitFor("10 watchers", async () => (seen = await liveViewers(url)) === 10).catch((e) => {
    throw new Error(`${e.message} (saw ${seen})`);
  });
  streams.forEach((conn) => conn.close()); // the viewers go away
  const t0 = performance.now();
  let left = -1;
  await waitFor("every watcher released", async () => (left = await liveViewers(url)) === 0, 60_000).catch((e) => {
    throw new Error(`${e.message} (${left} left)`);
  });
  console.log(`watchers released ${Math.round(performance.now() - t0)} ms after the viewers went away`);
});

Deno.test("security: login redirects only to paths on this server", () => {
  const hostile = [
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\nSet-Cookie: x=1",
    "//evil.example",
    "/\\evil.example",
    "/\\/evil.example",
    "https://evil.example",
    "javascript:alert(1)",
    "evil.example",
    "",
    undefined,
    "/%0a",
  ];
  for (const next of hostile.slice(0, -1)) assert.equal(safeNext(next), "/", JSON.stringify(next));
  assert.equal(safeNext("/%0a"), "/%0a", "an encoded newline stays encoded, inside the path");
  assert.equal(safeNext("/sessions/123?x=1#t"), "/sessions/123?x=1#t");
  assert.equal(safeNext("/a/../b"), "/b");
});

serverTest("security: hostile next values redirect home and never fail", async ({ url }) => {
  const cookie = (await login(url, ADMIN, "/")).cookie!;
  for (const next of ["%2F%09%2Fevil.example", "%0A", "%0D%0ASet-Cookie:%20x=1", "%2F%2Fevil.example", "%2F%5Cevil"]) {
    const res = await fetch(`${url}/login?next=${next}`, { headers: { cookie }, redirect: "manual" });
    await res.body?.cancel();
    assert.equal(res.status, 303, next);
    assert.equal(res.headers.get("location"), "/", next);
    const posted = await fetch(`${url}/login`, {
      method: "POST",
      body: `token=${ADMIN}&next=${next}`,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      redirect: "manual",
    });
    await posted.body?.cancel();
    assert.equal(posted.headers.get("location"), "/", `POST ${next}`);
  }
}, withLogin);

serverTest("security: wrong admin tokens are throttled with 429 and Retry-After", async ({ url }) => {
  for (let i = 0; i < 10; i++) assert.equal((await login(url, `wrong-token-${i}-wrong-token`)).status, 403);
  const throttled = await login(url, "wrong-token-again-wrong");
  assert.equal(throttled.status, 429);
  assert.ok(Number(throttled.retryAfter) >= 1);
  const right = await login(url);
  assert.equal(right.status, 429, "while throttled even the right token waits (it is not checked)");
  const bearer = await fetch(`${url}/api/sessions/feed`, {
    headers: { authorization: "Bearer guess-guess-guess-guess" },
  });
  assert.equal(bearer.status, 429, "bearer guesses share the budget");
  assert.equal((await bearer.json()).error.code, "too_many_attempts");
}, withLogin);

Deno.test("security: once the shared budget is spent, only clients that logged in before keep their own", () => {
  let now = 0;
  const throttle = new LoginThrottle({ now: () => now });
  for (let i = 0; i < 10; i++) {
    assert.equal(throttle.blocked("attacker"), undefined);
    throttle.fail("attacker");
  }
  assert.deepEqual(throttle.blocked("attacker"), { retryAfterSecs: 30 });
  now += 30_000;
  assert.equal(throttle.blocked("attacker"), undefined, "one more try after 30 s");
  throttle.succeed("admin");
  // A distributed attack spends the shared budget ...
  for (let i = 0; i < 100; i++) throttle.fail(`bot-${i}`);
  assert.deepEqual(throttle.blocked("bot-0"), { retryAfterSecs: 1 }, "a client that failed waits for it");
  assert.deepEqual(throttle.blocked("fresh"), { retryAfterSecs: 1 }, "so does a fresh one: no guess of its own");
  assert.equal(throttle.blocked("admin"), undefined, "a client that logged in before keeps its own budget");
  now += 1_000;
  assert.equal(throttle.blocked("fresh"), undefined, "the shared budget refills one a second, for all of them");
  throttle.fail("fresh");
  assert.ok(throttle.blocked("bot-99"), "and that one is spent again");
  for (let i = 0; i < 10; i++) throttle.fail("admin");
  assert.deepEqual(throttle.blocked("admin"), { retryAfterSecs: 30 }, "a known client's own budget still counts");
  now += 100_000;
  assert.equal(throttle.blocked("bot-0"), undefined, "everything refills");
  assert.equal(throttle.blocked("fresh"), undefined);
});

Deno.test("security: the login throttle remembers the 1,000 clients that logged in last", () => {
  const throttle = new LoginThrottle({ now: () => 0 });
  for (let i = 0; i <= 1_000; i++) throttle.succeed(`client-${i}`);
  throttle.succeed("client-1"); // logs in again: now the newest
  throttle.succeed("client-1001"); // pushes out the oldest, client-2 (client-0 went first)
  for (let i = 0; i < 100; i++) throttle.fail(`bot-${i}`);
  assert.ok(throttle.blocked("client-0"), "forgotten first");
  assert.ok(throttle.blocked("client-2"), "forgotten next");
  for (const known of ["client-1", "client-3", "client-1000", "client-1001"]) {
    assert.equal(throttle.blocked(known), undefined, known);
  }
});

serverTest(
  "security: behind a proxy, fresh addresses get no guess of their own; the admin's /64 logs in",
  async ({ url }) => {
    const post = async (token: string, from: string) => {
      const res = await fetch(`${url}/login`, {
        method: "POST",
        body: new URLSearchParams({ token, next: "/" }),
        headers: { "x-forwarded-for": from },
        redirect: "manual",
      });
      await res.body?.cancel();
      return res.status;
    };
    assert.equal(await post(ADMIN, "2001:db8:a:1::1"), 303, "the admin logs in");
    assert.equal(await post("mistyped-admin-token", "2001:db8:a:1::2"), 403, "and once mistypes, from the same /64");
    // One wrong token from each of ever new addresses (none reaches its own limit): the shared budget (100,
    // one more a second) runs out, and then a fresh address is refused before its first guess.
    let guesses = 0;
    let status: number;
    while ((status = await post("wrong-token-wrong-token", `198.51.${guesses >> 8}.${guesses & 255}`)) === 403) {
      assert.ok(++guesses < 1_000, "fresh addresses kept guessing");
    }
    assert.equal(status, 429);
    assert.ok(guesses + 1 >= 100, `${guesses} guesses, and the admin's mistype`);
    assert.equal(await post(ADMIN, "2001:db8:a:1::beef"), 303, "the admin's /64 keeps its own budget");
  },
  { env: { ...withLogin.env, REPLAYA_TRUST_PROXY: "1" } },
);

serverTest("security: a logged-out cookie is refused by every server on the store", async (server) => {
  const other = await serveStore(server.under, withLogin.env);
  try {
    const { cookie, setCookie } = await login(server.url);
    assert.match(setCookie!, /Max-Age=43200/, "a login lasts 12 hours");
    const headers = { cookie: cookie! };
    for (const base of [server.url, other.url]) {
      const ok = await fetch(`${base}/api/sessions/feed`, { headers, method: "HEAD" });
      assert.equal(ok.status, 200, `the cookie works on ${base}`);
    }
    const page = await (await fetch(`${server.url}/setup`, { headers })).text();
    const csrf = page.match(/name="csrf" value="([^"]+)"/)![1];
    const out = await logout(other.url, headers.cookie, csrf);
    assert.equal(out.status, 303);
    for (const base of [other.url, server.url]) {
      await waitFor(`the cookie refused on ${base}`, async () => {
        const res = await fetch(`${base}/api/sessions/feed`, { headers, method: "HEAD" });
        return res.status === 401;
      });
    }
    // A restarted server remembers the logout.
    const third = await serveStore(server.under, withLogin.env);
    try {
      assert.equal((await fetch(`${third.url}/api/sessions/feed`, { headers, method: "HEAD" })).status, 401);
    } finally {
      await third.close();
    }
  } finally {
    await other.close();
  }
}, withLogin);

serverTest("security: revocations keep working when their stream is deleted under the server", async (server) => {
  const first = await login(server.url);
  await server.store.deleteStream(REVOKED_STREAM);
  const page = await (await fetch(`${server.url}/setup`, { headers: { cookie: first.cookie! } })).text();
  const csrf = page.match(/name="csrf" value="([^"]+)"/)![1];
  assert.equal((await logout(server.url, first.cookie!, csrf)).status, 303);
  const other = await serveStore(server.under, withLogin.env); // learns revocations from the stream alone
  try {
    await waitFor("the logout known to a second server", async () => {
      const res = await fetch(`${other.url}/api/sessions/feed`, { headers: { cookie: first.cookie! }, method: "HEAD" });
      return res.status === 401;
    });
    // And the first server's follower came back after the deletion: a logout on the other reaches it.
    const second = await login(server.url);
    const page2 = await (await fetch(`${other.url}/setup`, { headers: { cookie: second.cookie! } })).text();
    const csrf2 = page2.match(/name="csrf" value="([^"]+)"/)![1];
    assert.equal((await logout(other.url, second.cookie!, csrf2)).status, 303);
    await waitFor("the other server's logout known to the first", async () => {
      const res = await fetch(`${server.url}/api/sessions/feed`, {
        headers: { cookie: second.cookie! },
        method: "HEAD",
      });
      return res.status === 401;
    });
  } finally {
    await other.close();
  }
}, withLogin);
