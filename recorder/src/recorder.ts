/**
 * One page's recorder: decides whether to record (privacy signal, sampling,
 * consent), runs rrweb and the captures, turns their output into buffered
 * events, and ends or rotates the session on stop, consent withdrawal and
 * inactivity. Everything platform-specific comes in through `RecorderEnv`.
 * @module
 */
import { EventBuffer } from "./buffer.ts";
import { installConsoleCapture } from "./capture/console.ts";
import { type ErrorTarget, installErrorCapture } from "./capture/errors.ts";
import { installNavigationCapture, type NavigationTarget } from "./capture/navigation.ts";
import { installNetworkCapture, type NetworkTarget } from "./capture/network.ts";
import { buildRecordOptions, type ConsoleLevel, type ResolvedOptions, type RrwebRecordOptions } from "./options.ts";
import {
  clearSession,
  clearStorage,
  decideSample,
  loadSession,
  saveSession,
  type StorageLike,
  type StoredSession,
} from "./session.ts";
import { type FetchLike, Transport } from "./transport.ts";
import type { Properties } from "./api.ts";
import { customEvent } from "./custom_event.ts";
import {
  type Credentials,
  type CustomTag,
  EventType,
  type GapPayload,
  type PageMeta,
  type PagePayload,
  type RrwebEvent,
} from "./wire.ts";
import { type Clock, Uploader } from "./uploader.ts";
import { scrubPageUrl, stripUrl } from "./url.ts";
import { RECORDER_VERSION } from "./version.ts";

/** rrweb's record entry point, adapted. */
export interface RecordFn {
  /** Starts recording; returns the stop function (undefined if rrweb refused). */
  start(options: RrwebRecordOptions): (() => void) | undefined;
  /** Emits a new meta + full snapshot pair. */
  takeFullSnapshot(): void;
}

/** Page facts reported when a session starts (URLs still raw). */
export type PageFacts = Required<Omit<PageMeta, "source" | "userId" | "traits" | "recorderVersion">>;

/** Everything platform-specific the recorder uses. */
export interface RecorderEnv {
  clock: Clock;
  random(): number;
  /** A fresh random id (writer ids). */
  id(): string;
  /** The unpatched fetch used for uploads. */
  fetch: FetchLike;
  gzip?: (text: string) => Promise<Uint8Array<ArrayBuffer>>;
  storage: StorageLike;
  record: RecordFn;
  /** At most one warning per page; the env enforces it. */
  warn(message: string): void;
  page(): PageFacts;
  /** The page's URL now: asked for every mutation, so only the URL (page() reads much more). */
  href(): string;
  /** navigator.globalPrivacyControl === true. */
  gpc(): boolean;
  isVisible(): boolean;
  /** Adds a listener to the window or document; returns its remover. */
  listen(
    target: "window" | "document",
    type: string,
    fn: () => void,
  ): () => void;
  errorTarget?: ErrorTarget;
  networkTarget?: NetworkTarget;
  /** The window, for single-page-app navigations (history and its events). */
  navigationTarget?: NavigationTarget;
  console?: Partial<Record<ConsoleLevel, (...args: unknown[]) => void>>;
  /** Absolute form of a possibly relative URL. */
  resolveUrl(url: string): string;
}

// rrweb IncrementalSource values that mean a person did something.
const USER_SOURCES = new Set([1, 2, 3, 4, 5, 6, 7, 12, 14]);
const PERSIST_EVERY_MS = 5000;
const WAKE_EVENTS = [
  "mousedown",
  "keydown",
  "touchstart",
  "scroll",
  "mousemove",
];

type State = "idle" | "recording" | "suspended" | "stopped";

/** A page's recorder. Public methods never throw. */
export class Recorder {
  #o: ResolvedOptions;
  #env: RecorderEnv;
  #writerId: string;
  #state: State = "idle";
  #allowed = true;
  #consented: boolean;
  #userId?: string;
  #traits?: Properties;
  #lastActivity: number;
  #lastPersist = 0;
  #buffer?: EventBuffer;
  #uploader?: Uploader;
  #captures: Array<() => void> = [];
  #listeners: Array<() => void> = [];
  #wakeListeners: Array<() => void> = [];
  #idleTimer: unknown;
  /** Scrubbed URL of the last page view (rrweb's Meta or an in-page navigation). */
  #lastPage?: string;
  /** Set when the server refused us or rrweb could not start: `start()` does not retry. */
  #fatal = false;

  /** @param options resolved init options. @param env platform services. */
  constructor(options: ResolvedOptions, env: RecorderEnv) {
    this.#o = options;
    this.#env = env;
    this.#writerId = env.id();
    this.#consented = !options.requireConsent;
    this.#lastActivity = env.clock.now();
  }

  /** Current lifecycle state (for diagnostics and tests). */
  get state(): State {
    return this.#state;
  }

  /** Random id of this page load's writer. */
  get writerId(): string {
    return this.#writerId;
  }

  /**
   * Applies the privacy signal and sampling, then records if consent allows.
   * Does nothing while recording; after `stop()` it records a new session.
   */
  start(): void {
    this.#safe(() => {
      if (this.#fatal || (this.#state !== "idle" && this.#state !== "stopped")) return;
      const { storage, clock, random } = this.#env;
      // A restart is a new session, even if the last stop has not finished yet.
      if (this.#state === "stopped") clearSession(storage);
      this.#state = "idle";
      this.#allowed = true;
      if (this.#o.respectGlobalPrivacyControl && this.#env.gpc()) {
        this.#allowed = false;
        return;
      }
      if (!decideSample(storage, this.#o.sampleRate, random)) {
        this.#allowed = false;
        return;
      }
      const stored = loadSession(
        storage,
        clock.now(),
        this.#o.inactivityTimeoutMs,
      );
      this.#userId = stored?.userId;
      this.#traits = stored?.traits;
      if (this.#consented) this.#begin(stored);
    });
  }

  /** Sets the user for this and later page loads and records a `replaya.identify` event. */
  identify(userId: string, traits?: Properties): void {
    this.#safe(() => {
      if (this.#state === "stopped" || typeof userId !== "string") return;
      this.#userId = userId;
      this.#traits = traits && typeof traits === "object" ? traits : undefined;
      this.#custom("replaya.identify", { userId, traits: this.#traits });
      this.#persist();
    });
  }

  /** Records a named `replaya.track` event. */
  track(name: string, props?: Properties): void {
    this.#safe(() => {
      if (typeof name !== "string") return;
      this.#custom("replaya.track", {
        name,
        props: props && typeof props === "object" ? props : undefined,
      });
    });
  }

  /** Grants (starts recording if allowed) or withdraws consent (stops and discards). */
  consent(granted: boolean): void {
    this.#safe(() => {
      if (this.#state === "stopped") return;
      this.#consented = granted === true;
      if (this.#consented) {
        if (this.#state === "idle" && this.#allowed) {
          const { storage, clock } = this.#env;
          this.#begin(
            loadSession(storage, clock.now(), this.#o.inactivityTimeoutMs),
          );
        }
      } else if (this.#state !== "idle") {
        this.#end();
        this.#state = "idle";
        this.#buffer?.clear(false);
        const uploader = this.#uploader;
        this.#uploader = undefined;
        clearSession(this.#env.storage);
        uploader?.close({ flush: false, sendStop: true }).catch(() => {});
      }
    });
  }

  /** Sends what is buffered now (keepalive requests, so a navigation may follow at once). */
  flush(): Promise<void> {
    this.#safe(() => {
      if (this.#state === "recording") this.#uploader?.flushHidden();
    });
    return Promise.resolve();
  }

  /** Stops until `start()`: flushes, tells the server, clears storage. */
  async stop(): Promise<void> {
    try {
      if (this.#state === "stopped") return;
      const wasActive = this.#state !== "idle";
      this.#state = "stopped";
      this.#end();
      if (wasActive) {
        await this.#uploader?.close({ flush: true, sendStop: true });
      }
      // Unless `start()` was called meanwhile and records again.
      if (this.#state === "stopped") clearStorage(this.#env.storage);
    } catch (error) {
      this.#fail(error);
    }
  }

  #begin(stored: StoredSession | undefined): void {
    const env = this.#env;
    this.#state = "recording";
    this.#lastActivity = env.clock.now();
    const buffer = new EventBuffer(this.#o.maxBufferBytes);
    this.#buffer = buffer;
    const snapshot = (lost?: GapPayload) =>
      this.#safe(() => {
        if (this.#state === "recording") env.record.takeFullSnapshot();
        if (lost) this.#recordGap(lost);
      });
    this.#uploader = new Uploader({
      transport: new Transport(this.#o.endpoint, {
        fetch: env.fetch,
        now: env.clock.now,
        gzip: env.gzip,
      }),
      buffer,
      clock: env.clock,
      random: env.random,
      writerId: this.#writerId,
      projectKey: this.#o.projectKey,
      meta: () => this.#meta(),
      onSession: () => this.#persist(true),
      onNewSession: snapshot,
      onResync: () => snapshot(),
      onFatal: (reason) => this.#shutdown(reason),
      warn: env.warn,
      isVisible: () => this.#state === "recording" && env.isVisible(),
    });
    // rrweb first: if it cannot record, no session is ever created.
    if (!this.#startCapture()) return;
    this.#uploader.connect(
      stored && { sessionId: stored.sessionId, token: stored.token },
    );
    const onHide = () => this.#safe(() => this.#hidden());
    this.#listeners.push(
      env.listen("window", "pagehide", onHide),
      env.listen(
        "document",
        "visibilitychange",
        () => this.#safe(() => env.isVisible() ? this.#uploader?.notify() : this.#hidden()),
      ),
    );
    this.#scheduleIdleCheck();
  }

  /** Starts rrweb and the captures; false (after shutting down) if rrweb could not start. */
  #startCapture(): boolean {
    const env = this.#env;
    const o = this.#o;
    const record = (tag: CustomTag) => (payload: Record<string, unknown>) => this.#custom(tag, payload);
    let stopRrweb: (() => void) | undefined;
    try {
      stopRrweb = env.record.start(
        buildRecordOptions(
          o,
          (event) => this.#safe(() => this.#onEvent(event)),
        ),
      );
    } catch (error) {
      this.#fail(error);
    }
    if (!stopRrweb) {
      // Without rrweb there is nothing worth a session: end it now.
      this.#shutdown("replaya: rrweb could not start recording", true);
      return false;
    }
    this.#captures.push(stopRrweb);
    if (env.navigationTarget) {
      this.#captures.push(
        installNavigationCapture(env.navigationTarget, (href) => this.#safe(() => this.#navigated(href))),
      );
    }
    if (o.captureErrors && env.errorTarget) {
      this.#captures.push(
        installErrorCapture(env.errorTarget, record("replaya.error"), record("replaya.console"), o.url),
      );
    }
    if (o.consoleLevels.length > 0 && env.console) {
      this.#captures.push(
        installConsoleCapture(
          env.console,
          o.consoleLevels,
          record("replaya.console"),
          o.url,
        ),
      );
    }
    if (o.captureNetwork && env.networkTarget) {
      const api = `${o.endpoint}/api/`;
      this.#captures.push(
        installNetworkCapture(env.networkTarget, record("replaya.network"), {
          now: env.clock.now,
          resolve: env.resolveUrl,
          ignore: (url) => url.startsWith(api),
        }),
      );
    }
    return true;
  }

  #stopCapture(): void {
    for (const undo of this.#captures.splice(0)) this.#safe(undo);
  }

  /** Stops everything local (capture, listeners, timers); uploads are left to the caller. */
  #end(): void {
    this.#stopCapture();
    for (
      const off of [
        ...this.#listeners.splice(0),
        ...this.#wakeListeners.splice(0),
      ]
    ) this.#safe(off);
    if (this.#idleTimer !== undefined) {
      this.#env.clock.clearTimeout(this.#idleTimer);
    }
    this.#idleTimer = undefined;
  }

  #shutdown(reason: string, sendStop = false): void {
    this.#fatal = true;
    this.#env.warn(reason);
    this.#state = "stopped";
    this.#end();
    this.#buffer?.clear(false);
    this.#uploader?.close({ flush: false, sendStop }).catch(() => {});
  }

  #onEvent(event: RrwebEvent): void {
    if (this.#state !== "recording" || !this.#buffer) return;
    let ev = event;
    if (ev.type === EventType.Meta) {
      const data = ev.data as { href?: unknown } | undefined;
      if (data && typeof data.href === "string") {
        this.#lastPage = stripUrl(data.href, this.#o.url);
        ev = { ...ev, data: { ...data, href: this.#lastPage } };
      }
    } else if (ev.type === EventType.IncrementalSnapshot) {
      const source = (ev.data as { source?: unknown } | undefined)?.source;
      if (typeof source === "number" && USER_SOURCES.has(source)) this.#touch();
    }
    const mutation = ev.type === EventType.IncrementalSnapshot && (ev.data as { source?: unknown })?.source === 0;
    // Scrubbing walks the whole snapshot: the buffer does it later, with the URL of now.
    const url = ev.type === EventType.FullSnapshot || mutation ? this.#env.href() : undefined;
    this.#buffer.push(ev, url === undefined ? undefined : (e) => scrubPageUrl(e, url, this.#o.url));
    this.#uploader?.notify();
  }

  /**
   * An in-page navigation: a `replaya.page` event (counted as a page and
   * listed like rrweb's Meta on a page load), scrubbed the same way. A URL
   * equal to the last page view once scrubbed is no new page.
   */
  #navigated(href: string): void {
    const url = stripUrl(href, this.#o.url);
    if (this.#state !== "recording" || url === this.#lastPage) return;
    this.#lastPage = url;
    this.#custom("replaya.page", { href: url } satisfies PagePayload);
  }

  #custom(tag: CustomTag, payload: Record<string, unknown>): void {
    if (this.#state !== "recording" || !this.#buffer) return;
    this.#buffer.push(customEvent(tag, payload, this.#env.clock.now()));
    this.#uploader?.notify();
  }

  #meta(): PageMeta {
    const page = this.#env.page();
    const meta: PageMeta = {
      ...page,
      url: stripUrl(page.url, this.#o.url),
      referrer: stripUrl(page.referrer, this.#o.url),
      recorderVersion: RECORDER_VERSION,
    };
    if (this.#o.source !== undefined) meta.source = this.#o.source;
    if (this.#userId !== undefined) meta.userId = this.#userId;
    if (this.#traits !== undefined) meta.traits = this.#traits;
    return meta;
  }

  #touch(): void {
    this.#lastActivity = this.#env.clock.now();
    if (this.#lastActivity - this.#lastPersist >= PERSIST_EVERY_MS) {
      this.#persist();
    }
  }

  #persist(force = false): void {
    const cred: Credentials | undefined = this.#uploader?.credentials;
    if (!cred || (this.#state !== "recording" && !force)) return;
    this.#lastPersist = this.#env.clock.now();
    saveSession(this.#env.storage, {
      sessionId: cred.sessionId,
      token: cred.token,
      lastActivity: this.#lastActivity,
      ...(this.#userId !== undefined ? { userId: this.#userId } : {}),
      ...(this.#traits !== undefined ? { traits: this.#traits } : {}),
    });
  }

  #hidden(): void {
    this.#persist();
    this.#uploader?.flushHidden();
  }

  #scheduleIdleCheck(): void {
    const every = Math.min(
      60_000,
      Math.max(1000, this.#o.inactivityTimeoutMs / 4),
    );
    this.#idleTimer = this.#env.clock.setTimeout(() => {
      this.#safe(() => {
        this.#idleTimer = undefined;
        if (this.#state === "stopped" || this.#state === "idle") return;
        if (
          this.#state === "recording" &&
          this.#env.clock.now() - this.#lastActivity >
            this.#o.inactivityTimeoutMs
        ) this.#suspend();
        this.#scheduleIdleCheck();
      });
    }, every);
  }

  /** Inactive too long: stop recording; the next interaction starts a new session. */
  #suspend(): void {
    this.#state = "suspended";
    this.#stopCapture();
    const wake = () => this.#safe(() => this.#wake());
    for (const type of WAKE_EVENTS) {
      this.#wakeListeners.push(this.#env.listen("document", type, wake));
    }
  }

  #wake(): void {
    if (this.#state !== "suspended") return;
    for (const off of this.#wakeListeners.splice(0)) off();
    this.#state = "recording";
    this.#lastActivity = this.#env.clock.now();
    clearSession(this.#env.storage);
    const lost = this.#uploader?.reset();
    if (this.#startCapture()) {
      if (lost) this.#recordGap(lost);
      this.#uploader?.connect();
    }
  }

  /** Records, in the current session, that events were lost before it. */
  #recordGap(lost: GapPayload): void {
    this.#buffer?.push(customEvent("replaya.gap", { ...lost }, this.#env.clock.now()));
    this.#uploader?.notify();
  }

  #safe(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.#fail(error);
    }
  }

  #fail(error: unknown): void {
    try {
      this.#env.warn(
        `replaya: internal error: ${error instanceof Error ? error.message : String(error)}`,
      );
    } catch {
      // Nothing left to do.
    }
  }
}
