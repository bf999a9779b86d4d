/** Gzip via the platform's CompressionStream: rrweb JSON shrinks ~5-10x. */

/** Whether `gzip` can run here. */
export function canGzip(): boolean {
  return typeof CompressionStream === "function" &&
    typeof Blob === "function" && typeof Response === "function";
}

/** Gzips `text` (UTF-8). Rejects where CompressionStream is unavailable. */
export async function gzip(text: string): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([text]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
