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

/**
 * Reads a whole stream, cancelling it and throwing {@link SizeLimitError} as
 * soon as it passes `maxBytes`, so an oversized body is never read to the end.
 */
export async function readCapped(stream: ReadableStream<Uint8Array>, maxBytes: number): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (true) {
    const { done, value } = await reader.read();
    if (done) return concatBytes(chunks);
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new SizeLimitError(`stream exceeds ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
}
