/** The fidelity test's pixel helper: PNG round trips (every row filter) and the difference it reports. */

import assert from "node:assert/strict";
import pngjs from "pngjs";
import { decodePng, drawPixels, encodePng, pixelDifference, type Pixels } from "./pixels.ts";

const { PNG } = pngjs;

const sample = drawPixels(37, 23, (x, y) => [(x * 7) & 255, (y * 11) & 255, (x * y) & 255, 255 - x]);

Deno.test("pixels: PNG encode and decode round-trip", async () => {
  const decoded = await decodePng(await encodePng(sample));
  assert.equal(decoded.width, 37);
  assert.equal(decoded.height, 23);
  assert.deepEqual(decoded.data, sample.data);
});

/** The same image as an RGB PNG (what encoders like Chromium's write) with every row filtered by `filterType`. */
function filteredRgbPng(image: Pixels, filterType: number): Uint8Array {
  const png = new PNG({ width: image.width, height: image.height });
  png.data.set(image.data);
  return new Uint8Array(PNG.sync.write(png, { colorType: 2, filterType }));
}

Deno.test("pixels: RGB PNGs with sub, up, average and Paeth rows decode exactly", async () => {
  const opaque = drawPixels(37, 23, (x, y) => {
    const i = (y * 37 + x) * 4;
    return [sample.data[i], sample.data[i + 1], sample.data[i + 2], 255];
  });
  for (const filter of [0, 1, 2, 3, 4]) {
    const decoded = await decodePng(filteredRgbPng(opaque, filter));
    assert.deepEqual(decoded.data, opaque.data, `filter ${filter}`);
  }
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
