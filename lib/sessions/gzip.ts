/**
 * gzip through the web platform's CompressionStream, with a bounded inflate
 * that stops a gzip bomb as soon as it passes the limit.
 *
 * @module
 */

import { concatBytes } from "../bytes.ts";

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

/**
 * Inflates a gzip stream, failing with {@link InflateLimitError} as soon as
 * the output passes `maxBytes` (the rest is never inflated).
 *
 * @example
 * const json = await gunzip(request.body!, 10 * 1024 * 1024);
 */
export async function gunzip(
  input: ReadableStream<Uint8Array> | Uint8Array,
  maxBytes: number,
): Promise<Uint8Array> {
  const source = input instanceof Uint8Array ? new Blob([input as BlobPart]).stream() : input;
  const inflate = new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>;
  const reader = source.pipeThrough(inflate).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > maxBytes) {
        await reader.cancel().catch(() => {});
        throw new InflateLimitError(`inflated body exceeds ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof InflateLimitError) throw error;
    throw new InflateError("body is not valid gzip", { cause: error });
  }
  return concatBytes(chunks);
}
