/** The fidelity test's pixel helper: PNG round trips (every row filter) and the difference it reports. */

import assert from "node:assert/strict";
import { decodePng, drawPixels, encodePng, pixelDifference, type Pixels } from "./pixels.ts";

const sample = drawPixels(37, 23, (x, y) => [(x * 7) & 255, (y * 11) & 255, (x * y) & 255, 255 - x]);

Deno.test("pixels: PNG encode and decode round-trip", async () => {
  const decoded = await decodePng(await encodePng(sample));
  assert.equal(decoded.width, 37);
  assert.equal(decoded.height, 23);
  assert.deepEqual(decoded.data, sample.data);
});

/** The same image re-encoded with row filters 0–4 in turn, as RGB (what encoders like Chromium's write). */
async function filteredRgbPng(image: Pixels): Promise<Uint8Array> {
  const png = await encodePng(image); // for the chunk layout; IHDR and IDAT are replaced below
  const stride = image.width * 3;
  const rgb = new Uint8Array(image.height * stride);
  for (let i = 0, j = 0; j < rgb.length; i += 4, j += 3) rgb.set(image.data.subarray(i, i + 3), j);
  const raw = new Uint8Array(image.height * (stride + 1));
  for (let y = 0; y < image.height; y++) {
    const filter = y % 5;
    raw[y * (stride + 1)] = filter;
    for (let x = 0; x < stride; x++) {
      const at = y * stride + x;
      const a = x >= 3 ? rgb[at - 3] : 0;
      const b = y > 0 ? rgb[at - stride] : 0;
      const c = x >= 3 && y > 0 ? rgb[at - stride - 3] : 0;
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c)
        ? a
        : Math.abs(p - b) <= Math.abs(p - c)
        ? b
        : c;
      const predictor = [0, a, b, (a + b) >> 1, paeth][filter];
      raw[y * (stride + 1) + 1 + x] = (rgb[at] - predictor) & 0xff;
    }
  }
  const stream = new Blob([raw]).stream().pipeThrough(new CompressionStream("deflate"));
  const idat = new Uint8Array(await new Response(stream).arrayBuffer());
  // Rebuilt: signature, IHDR (colour type 2), IDAT, IEND.
  const chunk = (type: string, body: Uint8Array) => {
    const out = new Uint8Array(12 + body.length);
    const view = new DataView(out.buffer);
    view.setUint32(0, body.length);
    out.set(new TextEncoder().encode(type), 4);
    out.set(body, 8);
    return out; // CRC left 0: the decoder does not check it
  };
  const header = png.slice(16, 29);
  header[9] = 2;
  const parts = [png.subarray(0, 8), chunk("IHDR", header), chunk("IDAT", idat), chunk("IEND", new Uint8Array())];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

Deno.test("pixels: RGB PNGs with sub, up, average and Paeth rows decode exactly", async () => {
  const decoded = await decodePng(await filteredRgbPng(sample));
  const opaque = drawPixels(37, 23, (x, y) => {
    const i = (y * 37 + x) * 4;
    return [sample.data[i], sample.data[i + 1], sample.data[i + 2], 255];
  });
  assert.deepEqual(decoded.data, opaque.data);
});

Deno.test("pixels: the difference counts pixels beyond the tolerance, not every small shift", () => {
  const white = drawPixels(10, 10, () => [255, 255, 255]);
  const near = drawPixels(10, 10, (x) => (x === 0 ? [230, 230, 230] : [255, 255, 255]));
  const block = drawPixels(10, 10, (x, y) => (x < 5 && y < 2 ? [0, 0, 0] : [255, 255, 255]));
  assert.deepEqual(pixelDifference(white, white), { differing: 0, total: 100, ratio: 0 });
  assert.equal(pixelDifference(white, near).differing, 0, "a 25-level shade is within the tolerance");
  assert.equal(pixelDifference(white, near, 10).differing, 10);
  assert.deepEqual(pixelDifference(white, block), { differing: 10, total: 100, ratio: 0.1 });
  assert.throws(() => pixelDifference(white, drawPixels(9, 10, () => [0, 0, 0])), /sizes differ/);
});
