/**
 * Pixels for the fidelity test: PNGs read and written with pngjs (the test
 * site's images, Chromium's screenshots), and a pixel difference.
 *
 * The difference counts pixels whose largest channel difference exceeds a
 * tolerance (default 48 of 255), as a share of all pixels. The tolerance
 * absorbs what no viewer sees — anti-aliasing of text and edges drawn at a
 * slightly different subpixel offset, colour rounding in scaled images —
 * while a missing image, a wrong colour, a misplaced or missing element or
 * different text still counts in full.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import pngjs from "pngjs";

const { PNG } = pngjs;

/** Decoded pixels, RGBA, row by row. */
export interface Pixels {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Encodes RGBA pixels as a PNG (pngjs). */
export function encodePng({ width, height, data }: Pixels): Promise<Uint8Array> {
  const png = new PNG({ width, height });
  png.data.set(data);
  return Promise.resolve(new Uint8Array(PNG.sync.write(png)));
}

/** Decodes a PNG (pngjs: every colour type, depth and filter; interlaced too) to RGBA. */
export function decodePng(png: Uint8Array): Promise<Pixels> {
  const { width, height, data } = PNG.sync.read(Buffer.from(png.buffer, png.byteOffset, png.byteLength));
  return Promise.resolve({ width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
}

/** The default per-channel tolerance of {@link pixelDifference} (see the module doc). */
export const CHANNEL_TOLERANCE = 48;

/** How two images differ. */
export interface Difference {
  /** Pixels whose largest channel difference exceeds the tolerance. */
  differing: number;
  total: number;
  /** `differing / total`, 0–1. */
  ratio: number;
}

/** Compares two images of the same size, pixel by pixel (alpha included). */
export function pixelDifference(a: Pixels, b: Pixels, tolerance = CHANNEL_TOLERANCE): Difference {
  if (a.width !== b.width || a.height !== b.height) {
    throw new Error(`sizes differ: ${a.width}×${a.height} and ${b.width}×${b.height}`);
  }
  let differing = 0;
  for (let i = 0; i < a.data.length; i += 4) {
    const delta = Math.max(
      Math.abs(a.data[i] - b.data[i]),
      Math.abs(a.data[i + 1] - b.data[i + 1]),
      Math.abs(a.data[i + 2] - b.data[i + 2]),
      Math.abs(a.data[i + 3] - b.data[i + 3]),
    );
    if (delta > tolerance) differing++;
  }
  const total = a.width * a.height;
  return { differing, total, ratio: differing / total };
}

/** Pixels painted by `paint(x, y)` → `[r, g, b, a = 255]` (for the test site's images). */
export function drawPixels(width: number, height: number, paint: (x: number, y: number) => number[]): Pixels {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b, a = 255] = paint(x, y);
      data.set([r, g, b, a], (y * width + x) * 4);
    }
  }
  return { width, height, data };
}
