/**
 * The session stream opened before the player's code has arrived: a tiny
 * module in the page (islands/Player.early.ts) opens the EventSource as soon
 * as the HTML is parsed and keeps what it receives; the Player island adopts
 * it when it connects, so the first batch is already there instead of being
 * asked for only after the player's 270 KB have been parsed and hydrated.
 * Nothing here imports the player.
 * @module
 */
import type { EventSourceLike } from "../event_source.ts";

/** The SSE event types the player listens to, and the connection's own. */
const TYPES = ["meta", "events", "live", "stop"] as const;

// A replay of the kept records stops after this long and goes on in the next task, so a long backlog does not
// hold the main thread in one task (the first frame is painted between slices).
const SLICE_MS = 8;

type Kept = { type: string; event: Event; state: number };

/** One early EventSource and what it has received so far. */
interface Early {
  source: EventSource;
  kept: Kept[];
  /** Set once adopted: receives each event as it happens (after the kept ones). */
  deliver?: (item: Kept) => void;
}

const REGISTRY = Symbol.for("replaya.earlyStreams");

function registry(): Map<string, Early> {
  const scope = globalThis as unknown as Record<symbol, Map<string, Early> | undefined>;
  return scope[REGISTRY] ??= new Map();
}

/** Opens `url` now and keeps its events until {@link adoptEarlyStream} takes it (absolute or path, as given). */
export function openEarlyStream(url: string, create: (url: string) => EventSource = (u) => new EventSource(u)): void {
  const streams = registry();
  if (streams.has(url)) return;
  const source = create(url);
  const early: Early = { source, kept: [] };
  const keep = (type: string) => (event: Event) => {
    const item = { type, event, state: source.readyState };
    if (early.deliver) early.deliver(item);
    else early.kept.push(item);
  };
  for (const type of TYPES) source.addEventListener(type, keep(type));
  source.onopen = keep("open");
  source.onerror = keep("error");
  streams.set(url, early);
}

/**
 * The early stream for `url`, once: an EventSourceLike that replays what was
 * received before (in order, from the next task on, in slices) and then
 * passes events through. Undefined when no early stream was opened for it.
 */
export function adoptEarlyStream(url: string): EventSourceLike | undefined {
  const streams = registry();
  const early = streams.get(url);
  if (!early) return undefined;
  streams.delete(url);
  return new AdoptedStream(early);
}

/** The adopted stream: listeners are the player's; readyState is the one each event was received with. */
class AdoptedStream implements EventSourceLike {
  onopen: ((event: Event) => unknown) | null = null;
  onerror: ((event: Event) => unknown) | null = null;
  #listeners = new Map<string, Array<(event: MessageEvent) => void>>();
  #early: Early;
  #state?: number;
  #closed = false;

  constructor(early: Early) {
    this.#early = early;
    // The next task: the player registers its listeners synchronously after creating the stream.
    setTimeout(() => this.#replay(), 0);
  }

  get readyState(): number {
    return this.#state ?? this.#early.source.readyState;
  }

  addEventListener(type: string, listener: (event: MessageEvent) => void): void {
    const list = this.#listeners.get(type) ?? [];
    list.push(listener);
    this.#listeners.set(type, list);
  }

  close(): void {
    this.#closed = true;
    this.#early.kept = [];
    this.#early.source.close();
  }

  // The next kept event to replay (an index: a backlog of thousands is not shifted one by one).
  #next = 0;

  #replay(): void {
    const kept = this.#early.kept;
    const started = performance.now();
    while (this.#next < kept.length && !this.#closed) {
      this.#dispatch(kept[this.#next++]);
      if (this.#next < kept.length && performance.now() - started >= SLICE_MS) {
        setTimeout(() => this.#replay(), 0);
        return;
      }
    }
    this.#early.kept = [];
    if (!this.#closed) this.#early.deliver = (item) => this.#dispatch(item);
  }

  #dispatch({ type, event, state }: Kept): void {
    if (this.#closed) return;
    this.#state = state;
    try {
      if (type === "open") this.onopen?.(event);
      else if (type === "error") this.onerror?.(event);
      else for (const listener of this.#listeners.get(type) ?? []) listener(event as MessageEvent);
    } finally {
      this.#state = undefined;
    }
  }
}
