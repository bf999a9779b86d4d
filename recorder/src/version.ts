/** Version reported to the server as `meta.recorderVersion`; kept equal to deno.json (a test checks). */
export const RECORDER_VERSION = "0.1.0";
