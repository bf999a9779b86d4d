/**
 * Byte and encoding helpers the web platform lacks: joining, capped and
 * deadline-bound reads, gzip with a bounded inflate (a gzip bomb stops as
 * soon as it passes its limit), base64url.
 *
 * @module
 */

/** Joins chunks into one array (returns the chunk itself when there is one). */
export function concatBytes(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** Thrown by {@link readCapped} when a stream is longer than allowed. */
export class SizeLimitError extends Error {
  override name = "SizeLimitError";
}

/** Thrown by {@link readCapped} when `signal` aborts before the stream ends (a slow sender). */
export class ReadDeadlineError extends Error {
  override name = "ReadDeadlineError";
}

/**
 * Reads a whole stream, cancelling it and throwing {@link SizeLimitError} as
 * soon as it passes `maxBytes`, so an oversized body is never read to the end;
 * or {@link ReadDeadlineError} when `signal` aborts first.
 */
export async function readCapped(
  stream: ReadableStream<Uint8Array>,
  maxBytes: number,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const { promise: aborted, reject } = Promise.withResolvers<never>();
  aborted.catch(() => {});
  const onAbort = () => reject(new ReadDeadlineError("the stream did not end in time"));
  if (signal?.aborted) onAbort();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    while (true) {
      const { done, value } = await Promise.race([reader.read(), aborted]);
      if (done) return concatBytes(chunks);
      total += value.length;
      if (total > maxBytes) throw new SizeLimitError(`stream exceeds ${maxBytes} bytes`);
      chunks.push(value);
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    throw error;
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * The stream of `bytes` in slices of at most `size` bytes, made as they are
 * pulled. Feeding an inflater small slices bounds what one step can produce
 * (deflate expands at most ~1032×), where one big chunk could inflate to
 * gigabytes before anyone counts it.
 */
export function sliced(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.subarray(offset, offset + size));
      offset += size;
    },
  }, { highWaterMark: 0 });
}

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

/** Base64url without padding. */
export function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
