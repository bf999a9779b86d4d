/**
 * gzip through the web platform's CompressionStream, with a bounded inflate
 * that stops a gzip bomb as soon as it passes the limit.
 *
 * @module
 */

import { readCapped, SizeLimitError, sliced } from "../bytes.ts";

/** Thrown when inflated data would exceed its limit. */
export class InflateLimitError extends Error {
  override name = "InflateLimitError";
}

/** Thrown when the input is not valid gzip. */
export class InflateError extends Error {
  override name = "InflateError";
}

/** Compresses bytes with gzip. */
export async function gzip(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as BlobPart]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Compressed bytes fed to the inflater per step for untrusted input: at most ~1 MiB of output each. */
export const INFLATE_SLICE = 1024;

/**
 * Inflates gzip bytes, failing with {@link InflateLimitError} as soon as the
 * output passes `maxBytes`: the input goes in small slices and the output is
 * counted as it comes, so a gzip bomb costs at most `maxBytes` plus one step.
 *
 * @example
 * const json = await gunzip(body, 10 * 1024 * 1024);
 */
export async function gunzip(input: Uint8Array, maxBytes: number, sliceBytes = INFLATE_SLICE): Promise<Uint8Array> {
  const source = sliced(input, sliceBytes);
  const inflate = new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>;
  try {
    return await readCapped(source.pipeThrough(inflate), maxBytes);
  } catch (error) {
    if (error instanceof SizeLimitError) throw new InflateLimitError(`inflated body exceeds ${maxBytes} bytes`);
    throw new InflateError("body is not valid gzip", { cause: error });
  }
}
