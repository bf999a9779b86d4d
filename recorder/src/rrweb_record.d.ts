/**
 * The slice of rrweb's `record` API the recorder uses. Declared here because
 * rrweb's published declarations (upstream's, via rrdom) fail a strict type check, which
 * breaks declaration bundling; this keeps them out of the program entirely.
 */
export declare const record: {
  (options: Record<string, unknown>): (() => void) | undefined;
  /** Emits a fresh meta + full snapshot pair while recording. */
  takeFullSnapshot(isCheckout?: boolean): void;
};
