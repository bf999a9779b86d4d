/**
 * `deno task bench:wire`: bytes on the wire for every asset a visitor's site
 * or the dashboard loads, uncompressed, gzip and br side by side, from a real
 * server (embedded store) as the client receives them (node:http: fetch would
 * decode them). Identity is what every response cost before compression.
 * Sizes, not times: the load average is printed for the record only.
 */

import { benchServer, KEY } from "./server.ts";
import { readManifest } from "../lib/islands/manifest.ts";
import { decodeBody, wireFetch } from "../tests/support/wire.ts";
import { table } from "./report.ts";

const manifest = await readManifest();
if (!manifest) throw new Error("no build: run `deno task build` first");

const server = await benchServer(undefined, "replaya-wire-");
try {
  const url = server.url;
  // One session with a snapshot-sized batch, so the list and the session page have a row and a timeline.
  const started = await (await fetch(`${url}/api/sessions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ projectKey: KEY, meta: { url: "https://shop.example/", userAgent: "bench" } }),
  })).json() as { sessionId: string; token: string };
  const now = Date.now();
  await (await fetch(`${url}/api/sessions/${started.sessionId}/events`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${started.token}` },
    body: JSON.stringify({
      writerId: "w1",
      seq: 0,
      sentAt: now,
      events: [
        { type: 4, timestamp: now, data: { href: "https://shop.example/", width: 1280, height: 720 } },
        ...Array.from({ length: 20 }, (_, i) => ({ type: 3, timestamp: now + i, data: { source: 2, type: 2, id: i } })),
      ],
    }),
  })).body?.cancel();

  const assets: [string, string][] = [
    ["recorder (/recorder.js)", "/recorder.js"],
    [`recorder (${manifest.recorder})`, manifest.recorder],
    ...Object.entries(manifest.islands).map(([name, path]) => [`island ${name}`, path] as [string, string]),
  ];
  // The shared chunks the islands import (older builds' chunks may still be on disk).
  const chunks = new Set<string>();
  for (const path of Object.values(manifest.islands)) {
    for (const m of (await Deno.readTextFile(`.${path}`)).matchAll(/chunk-[A-Za-z0-9]+\.js/g)) chunks.add(m[0]);
  }
  for (const chunk of chunks) assets.push([`shared ${chunk}`, `/static/build/islands/${chunk}`]);
  assets.push(
    ["app.css", "/static/app.css"],
    ["player.css", "/static/player.css"],
    ["list page HTML (/)", "/"],
    ["session page HTML", `/sessions/${started.sessionId}`],
    ["setup page HTML", "/setup"],
  );

  const kb = (n: number) => `${n.toLocaleString("en")} B`;
  const rows: string[][] = [];
  const totals = { identity: 0, gzip: 0, br: 0 };
  for (const [name, path] of assets) {
    const sizes: Record<string, number> = {};
    for (const [label, accept] of [["identity", "identity"], ["gzip", "gzip"], ["br", "br"]]) {
      const res = await wireFetch(url + path, { headers: { "accept-encoding": accept } });
      if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
      const encoding = res.headers.get("content-encoding") ?? "identity";
      if (encoding !== label && res.body.length >= 1024) throw new Error(`${path}: asked ${label}, got ${encoding}`);
      decodeBody(res); // decodes, or throws
      sizes[label] = res.body.length;
      totals[label as keyof typeof totals] += res.body.length;
    }
    rows.push([
      name,
      kb(sizes.identity),
      kb(sizes.gzip),
      kb(sizes.br),
      `${Math.round((100 * sizes.br) / sizes.identity)} %`,
    ]);
  }
  rows.push([
    "total",
    kb(totals.identity),
    kb(totals.gzip),
    kb(totals.br),
    `${Math.round((100 * totals.br) / totals.identity)} %`,
  ]);
  console.log(
    "Bytes on the wire (body) per Accept-Encoding; before this change every response was the identity size.\n",
  );
  console.log(table(["asset", "identity (before)", "gzip", "br", "br / identity"], rows));
} finally {
  await server.close();
}
console.log(`\nload average (uptime): ${Deno.loadavg().map((n) => n.toFixed(2)).join(" ")}`);
