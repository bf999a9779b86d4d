/** Gzip via the platform's CompressionStream: rrweb JSON shrinks ~5-10x. */

/** Whether `gzip` can run here. */
export function canGzip(): boolean {
  return typeof CompressionStream === "function" &&
    typeof Blob === "function" && typeof Response === "function";
}

/** Gzips `data` (text as UTF-8). Rejects where CompressionStream is unavailable. */
export async function gzip(data: string | Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([data]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
