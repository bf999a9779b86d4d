/**
 * Mounts rrweb-player (its replayer only: our own controls replace its
 * controller) and adapts it to the {@link PlayerHandle} the controller drives,
 * or, for the live wall's tiles, to a small muted live replayer
 * ({@link mountLiveReplayer}). The only module that imports rrweb-player;
 * call it from the browser only.
 * @module
 */
import RrwebPlayer from "rrweb-player";
import type { MountOptions, PlayerHandle } from "./controller.ts";
import { SPEEDS } from "./playback.ts";
import type { LiveMountOptions, LiveReplayerHandle } from "../wall/wall.ts";
import type { RrwebEvent } from "@replaya/recorder/wire";
import { isLoopbackHost } from "../../shared/intranet.ts";
import { intranetBlocker } from "./assets.ts";

// The parts of rrweb-player 2.1.6 and its Replayer used here (their .d.ts
// leans on svelte types that are not installed, so they are restated).
interface Replayer {
  getCurrentTime(): number;
  on(event: string, handler: (payload: unknown) => void): unknown;
  /** Without an offset: pauses. With one: applies every event before it at once, and stays paused there. */
  pause(timeOffset?: number): void;
  setConfig(config: Record<string, unknown>): void;
  /** Enters live mode: events added later play at `baselineTime` + the time since (capture clock). */
  startLive(baselineTime?: number): void;
  addEvent(event: unknown): void;
  destroy(): void;
  iframe: HTMLIFrameElement;
}

// How much later than asked a paused goto applies events (see mountRrwebPlayer).
const PAUSED_NUDGE_MS = 1;

interface SveltePlayer {
  addEvent(event: unknown): void;
  goto(timeOffset: number, play?: boolean): void;
  pause(): void;
  setSpeed(speed: number): void;
  getReplayer(): Replayer;
  triggerResize(): void;
  $set(props: Record<string, unknown>): void;
  $destroy(): void;
}

/** What the player island hears from the replayed page. */
export interface ReplayHooks {
  /** An image (or another element's resource) of the replayed page failed to load. */
  onAssetError?(url: string): void;
}

/**
 * Mounts the replay into `target` (which must be in the document: rrweb
 * creates its sandboxed iframe there). The iframe keeps rrweb's default
 * sandbox (`allow-same-origin`, never `allow-scripts`): canvas replay stays off.
 * rrweb's own inactivity skipping (a fast-forward) stays off: the controller
 * jumps over inactive stretches itself.
 */
export function mountRrwebPlayer(
  target: HTMLElement,
  events: RrwebEvent[],
  options: MountOptions,
  hooks: ReplayHooks = {},
): PlayerHandle {
  const block = viewerBlocker();
  const { player, replayer } = mount(target, events.map(block), options, {
    speed: options.speed,
    speedOption: [...SPEEDS],
    skipInactive: false,
  });
  if (hooks.onAssetError) watchAssetErrors(replayer, hooks.onAssetError);
  // Before the first goto the replayer's clock has no baseline.
  let started = false;
  // A paused goto asks rrweb for this much later (see below); the clock takes it off again.
  let nudge = 0;

  return {
    addEvent: (event) => player.addEvent(block(event)),
    goto(offset, play) {
      started = true;
      // rrweb applies the events *before* a paused offset and drops the rest, so a pause at the
      // last event's offset (the end) would leave out that event, and one at the first snapshot's
      // offset (the start) would leave whatever page was on screen. 1 ms later includes them.
      nudge = play ? 0 : PAUSED_NUDGE_MS;
      player.goto(offset + nudge, play);
    },
    pause: () => player.pause(),
    setSpeed: (speed) => player.setSpeed(speed),
    currentTime: () => started ? Math.max(0, replayer.getCurrentTime() - nudge) : 0,
    onFinish(listener) {
      replayer.on("finish", () => listener());
    },
    resize(width, height) {
      player.$set({ width, height });
      // Scaling needs the recorded viewport, known once the first Meta event has been applied.
      if (replayer.iframe.offsetWidth > 0) player.triggerResize();
    },
    destroy() {
      try {
        replayer.destroy();
      } catch {
        // Already torn down with its DOM.
      }
      player.$destroy();
    },
  };
}

/**
 * Mounts a live-wall tile's replayer into `target` (in the document): muted
 * (no controller, no mouse tail, no warnings, CSS animations of the replayed
 * page paused, no focus moves), scaled to `width` × `height` by rrweb-player's
 * CSS transform. The iframe keeps rrweb's default sandbox
 * (`allow-same-origin`, never `allow-scripts`): canvas replay stays off.
 *
 * `events` (a Meta, a full snapshot and what followed) are applied at once
 * with rrweb's fast path (its virtual DOM, flushed by the seek); then the
 * replayer enters rrweb's live mode at `baseline`, and each appended event is
 * applied to the page directly — at once when its capture time has passed,
 * else when it comes. The virtual DOM is turned off for live mode: only a
 * seek flushes it, and live mode never seeks.
 */
export function mountLiveReplayer(
  target: HTMLElement,
  events: RrwebEvent[],
  options: LiveMountOptions,
): LiveReplayerHandle {
  const block = viewerBlocker();
  const { player, replayer } = mount(target, events.map(block), options, {
    speed: 1,
    speedOption: [1],
    skipInactive: false,
    showDebug: false,
    mouseTail: false,
    pauseAnimation: true,
  });
  replayer.iframe.setAttribute("aria-hidden", "true");
  let first = Infinity;
  let last = -Infinity;
  for (const event of events) {
    first = Math.min(first, event.timestamp);
    last = Math.max(last, event.timestamp);
  }
  replayer.pause(last - first + 1);
  replayer.setConfig({ liveMode: true, useVirtualDom: false });
  replayer.startLive(options.baseline);
  let destroyed = false;

  return {
    append(more) {
      if (destroyed) return;
      for (const event of more) replayer.addEvent(block(event));
    },
    resize(width, height) {
      if (destroyed) return;
      player.$set({ width, height });
      // Scaling needs the recorded viewport, known once the Meta event has been applied.
      if (replayer.iframe.offsetWidth > 0) player.triggerResize();
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      try {
        replayer.destroy();
      } catch {
        // Already torn down with its DOM.
      }
      player.$destroy();
    },
  };
}

/**
 * What every replay takes out of its events before rrweb sees them: URLs on
 * the viewer's own network (assets.ts). Loopback ones stay when the dashboard
 * itself is open on loopback: a local install, whose recorded site is
 * usually on localhost too (`REPLAYA_REPLAY_ASSETS=cached-only` refuses them
 * there as well).
 */
function viewerBlocker(): (event: RrwebEvent) => RrwebEvent {
  return intranetBlocker({ allowLoopback: isLoopbackHost(globalThis.location?.hostname ?? "") });
}

/** Elements whose `error` event means their resource did not load. */
const RESOURCE_ELEMENTS = new Set(["IMG", "IMAGE", "INPUT", "LINK", "VIDEO", "SOURCE"]);

/**
 * Reports resources of the replayed page that fail to load: `error` events do
 * not bubble, so one capturing listener on the iframe's document hears them
 * all. A new page (rrweb's rebuild, or its virtual DOM's diff) reopens that
 * document, and `document.open()` drops its listeners but not its mutation
 * observers: the observer sees the old page go and puts the listener back, in
 * a microtask, before any image of the new page can have failed (failures
 * arrive on later tasks).
 */
function watchAssetErrors(replayer: Replayer, report: (url: string) => void): void {
  const onError = (event: Event) => {
    const element = event.target as Element | null;
    if (!element || !RESOURCE_ELEMENTS.has(element.nodeName.toUpperCase())) return;
    // An SVG <image>'s href is an object, not a string: only strings count.
    const source = element as unknown as Record<string, unknown>;
    const url = [
      source.currentSrc,
      source.src,
      source.href,
      ...["src", "href", "xlink:href"].map((name) => element.getAttribute(name)),
    ].find((value): value is string => typeof value === "string" && value !== "");
    if (url) report(url);
  };
  const doc = replayer.iframe.contentDocument;
  if (!doc) return;
  const watch = () => doc.addEventListener("error", onError, true);
  watch();
  new MutationObserver(watch).observe(doc, { childList: true });
}

/**
 * rrweb-player with what every replay here shares: no controller of its own,
 * no autoplay, no warnings, canvas replay off (the iframe keeps rrweb's
 * sandbox without scripts), replayed focus events not moving the viewer's
 * focus, and the iframe out of the tab order (the replay takes no input).
 */
function mount(
  target: HTMLElement,
  events: RrwebEvent[],
  size: { width: number; height: number },
  props: Record<string, unknown>,
): { player: SveltePlayer; replayer: Replayer } {
  const player = new RrwebPlayer({
    target,
    props: {
      events: events as never,
      width: size.width,
      height: size.height,
      maxScale: 1,
      autoPlay: false,
      showController: false,
      showWarning: false,
      triggerFocus: false,
      UNSAFE_replayCanvas: false,
      ...props,
    },
  }) as unknown as SveltePlayer;
  const replayer = player.getReplayer();
  replayer.iframe.setAttribute("tabindex", "-1");
  // rrweb's rebuild of a full snapshot opens the iframe's document (document.open()) and never closes it: left
  // "loading", the frame holds the page's load event for good when the rebuild came before that event (the
  // static first frame's images make that likely). Closed after every rebuild; the DOM rrweb built stays.
  const finish = () => {
    const doc = replayer.iframe.contentDocument;
    if (doc?.readyState === "loading") doc.close();
  };
  replayer.on("fullsnapshot-rebuilded", finish);
  finish();
  return { player, replayer };
}
