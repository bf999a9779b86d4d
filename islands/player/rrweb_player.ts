/**
 * Mounts rrweb-player (its replayer only: our own controls replace its
 * controller) and adapts it to the {@link PlayerHandle} the controller drives.
 * The only module that imports rrweb-player; call it from the browser only.
 * @module
 */
import RrwebPlayer from "rrweb-player";
import type { MountOptions, PlayerHandle } from "./controller.ts";
import { SPEEDS } from "./playback.ts";
import type { RrwebEvent } from "@replaya/recorder/wire";

// The parts of rrweb-player 2.1.6 and its Replayer used here (their .d.ts
// leans on svelte types that are not installed, so they are restated).
interface Replayer {
  getCurrentTime(): number;
  on(event: string, handler: (payload: unknown) => void): unknown;
  destroy(): void;
  iframe: HTMLIFrameElement;
}

interface SveltePlayer {
  addEvent(event: unknown): void;
  goto(timeOffset: number, play?: boolean): void;
  pause(): void;
  setSpeed(speed: number): void;
  toggleSkipInactive(): void;
  getReplayer(): Replayer;
  triggerResize(): void;
  $set(props: Record<string, unknown>): void;
  $destroy(): void;
}

/**
 * Mounts the replay into `target` (which must be in the document: rrweb
 * creates its sandboxed iframe there). The iframe keeps rrweb's default
 * sandbox (`allow-same-origin`, never `allow-scripts`): canvas replay stays off.
 */
export function mountRrwebPlayer(target: HTMLElement, events: RrwebEvent[], options: MountOptions): PlayerHandle {
  const player = new RrwebPlayer({
    target,
    props: {
      events: events as never,
      width: options.width,
      height: options.height,
      maxScale: 1,
      autoPlay: false,
      showController: false,
      speed: options.speed,
      speedOption: [...SPEEDS],
      skipInactive: options.skipInactive,
      showWarning: false,
      // Replayed focus events would move the viewer's keyboard focus into the replay.
      triggerFocus: false,
      UNSAFE_replayCanvas: false,
    },
  }) as unknown as SveltePlayer;
  const replayer = player.getReplayer();
  // The replay is not interactive (pointer events off); keep it out of the tab order.
  replayer.iframe.setAttribute("tabindex", "-1");
  let skipInactive = options.skipInactive;
  // Before the first goto the replayer's clock has no baseline.
  let started = false;

  return {
    addEvent: (event) => player.addEvent(event),
    goto(offset, play) {
      started = true;
      player.goto(offset, play);
    },
    pause: () => player.pause(),
    setSpeed: (speed) => player.setSpeed(speed),
    setSkipInactive(skip) {
      // rrweb-player only offers a toggle, and re-applies its own flag on every update.
      if (skip === skipInactive) return;
      skipInactive = skip;
      player.toggleSkipInactive();
    },
    currentTime: () => started ? replayer.getCurrentTime() : 0,
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
