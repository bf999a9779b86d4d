/**
 * Typed store errors, so no caller ever parses an error message.
 *
 * @module
 */

/** The kinds of store failure callers act on. */
export type StoreErrorCode =
  | "fencing_mismatch"
  | "seq_mismatch"
  | "not_found"
  | "already_exists"
  | "invalid"
  | "too_large"
  | "unavailable"
  | "timeout";

/** Base class of every error a store raises. */
export class StoreError extends Error {
  constructor(readonly code: StoreErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The batch's fencing token did not match the stream's. Nothing was written. */
export class FencingMismatchError extends StoreError {
  constructor(readonly expected: string, options?: ErrorOptions) {
    super("fencing_mismatch", `fencing token mismatch (stream is fenced with "${expected}")`, options);
  }
}

/** The batch's matchSeqNum did not match the stream's tail. Nothing was written. */
export class SeqMismatchError extends StoreError {
  constructor(readonly expected: number, options?: ErrorOptions) {
    super("seq_mismatch", `seq number mismatch (tail is ${expected})`, options);
  }
}

/** The stream (or basin) does not exist. */
export class NotFoundError extends StoreError {
  constructor(what: string, options?: ErrorOptions) {
    super("not_found", `${what} not found`, options);
  }
}

/** The stream already exists, or its deletion is still pending. */
export class AlreadyExistsError extends StoreError {
  constructor(what: string, options?: ErrorOptions) {
    super("already_exists", `${what} already exists`, options);
  }
}

/** The request itself was invalid (bad name, missing timestamp, bad batch). */
export class InvalidError extends StoreError {
  constructor(message: string, options?: ErrorOptions) {
    super("invalid", message, options);
  }
}

/** A record or batch exceeds the 1 MiB / 1000-record limits. */
export class TooLargeError extends StoreError {
  constructor(message: string, options?: ErrorOptions) {
    super("too_large", message, options);
  }
}

/** The store could not be reached or is overloaded; the call may be retried. */
export class UnavailableError extends StoreError {
  constructor(message: string, options?: ErrorOptions) {
    super("unavailable", message, options);
  }
}

/** The call did not finish in time; it may or may not have taken effect. */
export class TimeoutError extends StoreError {
  constructor(message: string, options?: ErrorOptions) {
    super("timeout", message, options);
  }
}
