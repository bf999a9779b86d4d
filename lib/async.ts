/**
 * Timing helpers every layer may use; imports nothing.
 *
 * @module
 */

/** Resolves after `ms`, or at once when `signal` aborts (never rejects), leaving no timer behind. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}

/**
 * A pacer for long synchronous-looking work on the event loop (reading and decoding a whole session):
 * `await pace()` after each step yields a macrotask once the steps since the last yield have held the loop
 * for `sliceMs`, so responses already produced get written and other requests get a turn.
 */
export function slicer(sliceMs: number, now: () => number = () => performance.now()): () => Promise<void> {
  let since = now();
  return async () => {
    if (now() - since < sliceMs) return;
    await new Promise((resolve) => setTimeout(resolve, 0));
    since = now();
  };
}

/**
 * A semaphore counted in bytes: readers that must hold a large buffer (an
 * inflated batch of many MiB) take its size first and give it back when done,
 * so however many readers there are, together they hold at most `capacity`
 * such bytes; the others wait their turn, first come first served. A request
 * larger than the capacity waits for all of it and then proceeds alone.
 *
 * @example
 * const budget = new ByteBudget(64 * 1024 * 1024);
 * const held = await budget.acquire(size);
 * try { … } finally { budget.release(held); }
 */
export class ByteBudget {
  readonly capacity: number;
  #free: number;
  #waiting: Array<{ bytes: number; grant: () => void }> = [];

  constructor(capacity: number) {
    this.capacity = capacity;
    this.#free = capacity;
  }

  /** Bytes held now. */
  get held(): number {
    return this.capacity - this.#free;
  }

  /** Waits until `bytes` (at most the capacity) are free and takes them; resolves to what it took. */
  acquire(bytes: number): Promise<number> {
    const take = Math.min(Math.max(0, bytes), this.capacity);
    if (this.#waiting.length === 0 && take <= this.#free) {
      this.#free -= take;
      return Promise.resolve(take);
    }
    return new Promise((resolve) => this.#waiting.push({ bytes: take, grant: () => resolve(take) }));
  }

  /** Gives back what {@link acquire} took. */
  release(bytes: number): void {
    this.#free += bytes;
    while (this.#waiting.length > 0 && this.#waiting[0].bytes <= this.#free) {
      const next = this.#waiting.shift()!;
      this.#free -= next.bytes;
      next.grant();
    }
  }
}
