/**
 * Byte helpers the web platform lacks.
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
