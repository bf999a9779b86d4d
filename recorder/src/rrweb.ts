/**
 * rrweb's recorder adapted to the recorder's `RecordFn`. The build is Sentry's
 * maintained rrweb 2.x (`@sentry-internal/rrweb`, MIT): the same recorder and
 * event format as upstream, with the canvas recorder split into a module of
 * its own, so a recorder that never records canvases (this one) does not ship
 * it: ~3 KB less gzipped on every visitor's page load.
 * @module
 */
// @ts-types="./rrweb_record.d.ts"
import { record } from "@sentry-internal/rrweb";
import type { RecordFn } from "./recorder.ts";

/** Starts rrweb recording and takes full snapshots on demand. */
export const rrwebRecord: RecordFn = {
  start: (options) => record(options as unknown as Record<string, unknown>),
  takeFullSnapshot: () => record.takeFullSnapshot(),
};
