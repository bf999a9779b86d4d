/**
 * Session replay island: streams a session over SSE, shows the first full
 * snapshot while the rest loads (paused for a finished recording, playing
 * towards the live edge for a live one), and shows the activity feed beside
 * the replay; keyboard shortcuts, and the page header's status flipped to
 * Ended when the stream ends; the server's friction signals as feed rows and
 * timeline marks. Rendered on the server in its loading state;
 * everything touching the DOM runs in effects after hydration.
 * @module
 */
import { Fragment, type JSX } from "preact";
import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import { ReplayController, type ReplayState } from "./player/controller.ts";
import { Feed } from "./player/Feed.tsx";
import { frictionFeedItems, mergeFeed } from "./player/feed.ts";
import type { FrictionReport } from "@replaya/recorder/wire";
import { FrictionPanel } from "../components/FrictionPanel.tsx";
import { formatClock } from "./player/format.ts";
import { showEndedInHeader } from "./player/header_status.ts";
import { inactiveTotal } from "./player/inactivity.ts";
import { timelineMarkers } from "./player/markers.ts";
import { emptyMessage, SPEEDS } from "./player/playback.ts";
import { mountRrwebPlayer } from "./player/rrweb_player.ts";
import { AssetFailures, type AssetMap, assetNotice, assetRewriter, loadAssetMap, NO_ASSETS } from "./player/assets.ts";
import { focusKindOf, SHORTCUT_HELP, type ShortcutAction, shortcutApplies, shortcutFor } from "./player/shortcuts.ts";
import { openSessionStream } from "./player/stream.ts";
import { adoptEarlyStream } from "./player/early_stream.ts";
import { holdHandlers } from "./player/hold.ts";
import { Legend, Timeline } from "./player/Timeline.tsx";
import { FirstFrame, type FirstFrameProps } from "./player/FirstFrame.tsx";

/** Props of the Player island (serialized into the page as JSON). */
export interface PlayerProps {
  sessionId: string;
  /** The session was live when the page was rendered: follow its live edge. */
  live: boolean;
  /** Session start (ms since the epoch), shown until the first event arrives. */
  startedAt: number;
  /** Origin of the API; "" (default) is the page's own. */
  apiBase?: string;
  /**
   * The server's friction report (lib/sessions/report.ts) when it was built already; otherwise the player asks
   * for it once the replay shows. Shown as a panel below the player, its signals as feed rows and timeline marks.
   */
  report?: FrictionReport;
  /** The first frame as static HTML, shown until rrweb's own (server-rendered only: never serialized). */
  firstFrame?: FirstFrameProps;
}

// The clock re-renders the view at most this often while playing.
const CLOCK_STEP_MS = 100;
// The stage is never smaller than this, and leaves this much room below the controls.
const MIN_STAGE_PX = 240;
const FIT_MARGIN_PX = 12;

/** The replay player. */
export default function Player(props: PlayerProps): JSX.Element {
  const root = useRef<HTMLDivElement>(null);
  const stage = useRef<HTMLDivElement>(null);
  const mountPoint = useRef<HTMLDivElement>(null);
  // The session's cached assets (known before the stream opens) and the replayed page's failed ones.
  const assets = useRef<AssetMap>(NO_ASSETS);
  const [failures] = useState(() => new AssetFailures());
  const [failed, setFailed] = useState(0);
  const [noticeClosed, setNoticeClosed] = useState(false);
  // Constructing the controller touches nothing outside itself; start() (in an effect) opens the stream.
  const [controller] = useState(() =>
    new ReplayController({
      mount: (events, options) => {
        const target = mountPoint.current;
        if (!target) throw new Error("the player is not in the page");
        // A failed earlier attempt may have left part of a player behind.
        target.replaceChildren();
        // rrweb gets the recorded asset URLs rewritten to the cached copies; the feed keeps the originals.
        const rewrite = assetRewriter(assets.current.urls);
        const handle = mountRrwebPlayer(target, events.map(rewrite), options, {
          onAssetError: (url) => failures.add(url) && setFailed(failures.count),
        });
        return { ...handle, addEvent: (event) => handle.addEvent(rewrite(event)) };
      },
      // The stream and the asset map (one small request, at most 3 s) at the same time; the stream's records
      // wait for the map, so the first frame already uses the cache.
      connect: (handlers) => {
        const apiBase = props.apiBase ?? "";
        const abort = new AbortController();
        const map = loadAssetMap(apiBase, props.sessionId, abort.signal).then((map) => {
          if (!abort.signal.aborted) assets.current = map;
        });
        const held = holdHandlers(handlers, map);
        // The first connection takes the stream Player.early.ts opened while this code was on its way.
        const stream = openSessionStream(apiBase, props.sessionId, held.handlers, {
          create: (url) => adoptEarlyStream(url) ?? new EventSource(url),
        });
        return {
          close() {
            abort.abort();
            held.cancel();
            stream.close();
          },
        };
      },
    }, { live: props.live })
  );
  const [state, setState] = useState<ReplayState>(controller.state);
  // The static first frame goes once rrweb's own has been painted (a frame after it was built), or nothing will come.
  const [firstFrameDone, setFirstFrameDone] = useState(false);
  const replaced = state.playable || state.failed || state.error !== undefined || state.ended;
  useEffect(() => {
    if (!replaced || firstFrameDone) return;
    const frame = requestAnimationFrame(() => setFirstFrameDone(true));
    return () => cancelAnimationFrame(frame);
  }, [replaced, firstFrameDone]);
  const [current, setCurrent] = useState(0);
  const [help, setHelp] = useState(false);

  useEffect(() => {
    const unsubscribe = controller.subscribe(setState);
    controller.start();
    return () => {
      unsubscribe();
      controller.destroy();
    };
  }, [controller]);

  // The replayer keeps its own clock; sample it once a frame, render when it moved enough,
  // or exactly once it stops (so the feed highlight lands on the last event played).
  useEffect(() => {
    let frame = 0;
    let shown = -1;
    let previous = -1;
    const tick = () => {
      controller.tick();
      const now = controller.currentTime();
      if (now !== shown && (Math.abs(now - shown) >= CLOCK_STEP_MS || now === previous)) {
        shown = now;
        setCurrent(now);
      }
      previous = now;
      frame = requestAnimationFrame(tick);
    };
    frame = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(frame);
  }, [controller]);

  // The stage takes the window's height left below what is above it and above the controls, so they show
  // without scrolling (static/player.css has a fallback for before this runs).
  useEffect(() => {
    const box = stage.current;
    const main = box?.parentElement;
    if (!box || !main) return;
    const fit = () => {
      const top = box.getBoundingClientRect().top + globalThis.scrollY;
      const below = main.getBoundingClientRect().bottom - box.getBoundingClientRect().bottom;
      const room = Math.floor(globalThis.innerHeight - top - below - FIT_MARGIN_PX);
      box.style.setProperty("--rp-stage-fit", `${Math.max(MIN_STAGE_PX, room)}px`);
    };
    fit();
    globalThis.addEventListener("resize", fit);
    return () => globalThis.removeEventListener("resize", fit);
  }, []);

  useEffect(() => {
    const box = stage.current;
    if (!box || typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(() => controller.resize(box.clientWidth, box.clientHeight));
    observer.observe(box);
    controller.resize(box.clientWidth, box.clientHeight);
    return () => observer.disconnect();
  }, [controller]);

  // The header was rendered with the status the session had then.
  useEffect(() => {
    if (state.ended && !state.failed) showEndedInHeader(document, props.sessionId);
  }, [state.ended, state.failed, props.sessionId]);

  const seek = useCallback((offset: number) => {
    controller.seek(offset);
    setCurrent(controller.currentTime());
  }, [controller]);

  const helpOpen = useRef(help);
  helpOpen.current = help;
  // Shortcuts work when focus is in the player or on the page itself, unless the focused control uses the key.
  useEffect(() => {
    const perform = (action: ShortcutAction): boolean => {
      switch (action.type) {
        case "toggle":
          controller.togglePlay();
          return true;
        case "seekBy":
          controller.seekBy(action.ms);
          break;
        case "start":
          controller.seekToStart();
          break;
        case "end":
          controller.seekToEnd();
          break;
        case "speed":
          controller.stepSpeed(action.step);
          return true;
        case "help":
          setHelp((open) => !open);
          return true;
        case "close":
          if (!helpOpen.current) return false;
          setHelp(false);
          return true;
      }
      setCurrent(controller.currentTime());
      return true;
    };
    const onKey = (event: KeyboardEvent) => {
      if (event.defaultPrevented) return;
      const action = shortcutFor(event);
      if (!action) return;
      const target = event.target instanceof Element ? event.target : null;
      const inPlayer = target !== null && root.current?.contains(target) === true;
      if (target && !inPlayer && target !== document.body && target !== document.documentElement) return;
      if (!shortcutApplies(event.key, action, focusKindOf(inPlayer ? target : null))) return;
      if (perform(action)) event.preventDefault();
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [controller]);

  const report = useFrictionReport(props, state.playable || state.ended || state.error !== undefined);
  const friction = useMemo(() => frictionFeedItems(report.report?.signals ?? []), [report.report]);
  // Only within what has loaded: a signal past the loaded end would sit on the timeline's edge.
  const end = state.eventCount ? state.origin + state.total : -Infinity;
  const loaded = useMemo(() => friction.filter((item) => item.ts <= end), [friction, end]);
  const feed = useMemo(() => mergeFeed(state.feed, loaded), [state.feed, loaded]);
  const markers = useMemo(() => timelineMarkers(feed, state.origin, state.total), [
    feed,
    state.origin,
    state.total,
  ]);
  const message = emptyMessage({ ...state, live: props.live });
  const origin = state.eventCount ? state.origin : props.startedAt;
  const idle = inactiveTotal(state.inactive);

  return (
    <>
      <div
        class="rp"
        ref={root}
        data-testid="player"
        data-status={state.status}
        data-events={state.eventCount}
        data-playing={state.playing ? "true" : "false"}
        data-speed={state.speed}
        data-skips={state.skips}
        data-session-id={props.sessionId}
      >
        <div class="rp-main">
          <div class="rp-stage" ref={stage}>
            <div class="rp-mount" ref={mountPoint} />
            <FirstFrame frame={props.firstFrame} done={firstFrameDone} />
            {message
              ? (
                <div class="rp-overlay" role="status">
                  {state.ended || state.caughtUp || state.error ? null : <span class="rp-spinner" aria-hidden="true" />}
                  <p>{message}</p>
                </div>
              )
              : null}
            {help ? <ShortcutHelp onClose={() => setHelp(false)} /> : null}
            {failed > 0 && !noticeClosed
              ? (
                <div class="rp-assets" role="status" data-testid="asset-notice" data-count={failed}>
                  <span>
                    {assetNotice(failed, failures.hosts(globalThis.location?.origin ?? ""), assets.current.enabled)}
                  </span>
                  <button
                    type="button"
                    class="rp-button rp-close"
                    aria-label="Dismiss"
                    onClick={() => setNoticeClosed(true)}
                  >
                    ×
                  </button>
                </div>
              )
              : null}
          </div>
          <div class="rp-controls">
            <button
              type="button"
              class="rp-button rp-play"
              data-testid="play-toggle"
              aria-label={state.playing ? "Pause" : "Play"}
              title={state.playing ? "Pause (Space, K)" : "Play (Space, K)"}
              disabled={!state.playable}
              onClick={() => controller.togglePlay()}
            >
              {state.playing ? <PauseIcon /> : <PlayIcon />}
            </button>
            <span class="rp-time" aria-label="Time">
              <span data-testid="current-time">{formatClock(current)}</span>
              <span aria-hidden="true">/</span>
              <span data-testid="total-time">{formatClock(state.total)}</span>
            </span>
            <Timeline
              total={state.total}
              current={current}
              markers={markers}
              inactive={state.inactive}
              skipping={state.skipInactive}
              disabled={!state.playable}
              onSeek={seek}
            />
            <span class="rp-status" aria-live="polite">
              <StatusBadge state={state} onJump={() => controller.jumpToLive()} />
            </span>
          </div>
          <div class="rp-options">
            <div class="rp-speeds" role="group" aria-label="Playback speed">
              {SPEEDS.map((speed) => (
                <button
                  key={speed}
                  type="button"
                  class="rp-button rp-speed"
                  data-speed={speed}
                  aria-pressed={state.speed === speed ? "true" : "false"}
                  title="Slower / faster: < and >"
                  onClick={() => controller.setSpeed(speed)}
                >
                  {speed === 0.5 ? "½" : speed}×
                </button>
              ))}
            </div>
            <label class="rp-toggle" title={idle ? `${Math.round(idle / 1000)} s without activity` : undefined}>
              <input
                type="checkbox"
                data-testid="skip-inactive"
                checked={state.skipInactive}
                onChange={(event) => controller.setSkipInactive(event.currentTarget.checked)}
              />
              Skip inactivity
            </label>
            {state.reconnecting && !state.ended ? <span class="rp-hint" role="status">Reconnecting…</span> : null}
            <button
              type="button"
              class="rp-button rp-help-button"
              data-testid="shortcuts-button"
              aria-label="Keyboard shortcuts"
              aria-expanded={help ? "true" : "false"}
              title="Keyboard shortcuts (?)"
              onClick={() => setHelp((open) => !open)}
            >
              ?
            </button>
            <Legend />
          </div>
        </div>
        <Feed items={feed} origin={origin} current={current} onSeek={seek} />
      </div>
      <FrictionPanel id={props.sessionId} report={report.report} loading={report.loading} />
    </>
  );
}

/**
 * The report given in the props, or asked of the API once `due` (the replay shows): reading a long session's
 * whole stream for it must not hold up the page or the first frame.
 */
function useFrictionReport(props: PlayerProps, due: boolean): { report?: FrictionReport; loading: boolean } {
  const [report, setReport] = useState(props.report);
  const [loading, setLoading] = useState(props.report === undefined);
  useEffect(() => {
    if (!due || !loading) return;
    const abort = new AbortController();
    const url = `${props.apiBase ?? ""}/api/sessions/${encodeURIComponent(props.sessionId)}/report`;
    fetch(url, { signal: abort.signal, headers: { accept: "application/json" } })
      .then((res) => res.ok ? res.json() as Promise<FrictionReport> : undefined)
      .catch(() => undefined)
      .then((body) => {
        if (abort.signal.aborted) return;
        setReport(body && Array.isArray(body.signals) ? body : undefined);
        setLoading(false);
      });
    return () => abort.abort();
  }, [due, loading, props.apiBase, props.sessionId]);
  return { report, loading };
}

/** The `?` overlay: every shortcut. */
function ShortcutHelp({ onClose }: { onClose(): void }): JSX.Element {
  return (
    <div class="rp-help" role="dialog" aria-label="Keyboard shortcuts" data-testid="shortcuts-help">
      <div class="rp-help-head">
        <strong>Keyboard shortcuts</strong>
        <button type="button" class="rp-button rp-close" aria-label="Close" onClick={onClose}>×</button>
      </div>
      <dl>
        {SHORTCUT_HELP.map(({ keys, label }) => (
          <div key={label}>
            <dt>
              {keys.map((key, i) => (
                <Fragment key={key}>
                  {i ? <span class="rp-help-or">or</span> : null}
                  <kbd>{key}</kbd>
                </Fragment>
              ))}
            </dt>
            <dd>{label}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}

/** LIVE while following the live edge, "Jump to live" after scrubbing back, Ended once over. */
function StatusBadge({ state, onJump }: { state: ReplayState; onJump(): void }): JSX.Element | null {
  if (state.ended) {
    return <span class="rp-badge rp-badge--ended" data-testid="live-badge" data-state="ended">Ended</span>;
  }
  if (!state.liveStream || !state.playable || state.jumpPending) return null;
  if (state.following) {
    return <span class="rp-badge rp-badge--live" data-testid="live-badge" data-state="live">LIVE</span>;
  }
  return (
    <button type="button" class="rp-button rp-jump" data-testid="jump-to-live" onClick={onJump}>
      Jump to live
    </button>
  );
}

function PlayIcon(): JSX.Element {
  return (
    <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
      <path d="M8 5v14l11-7z" fill="currentColor" />
    </svg>
  );
}

function PauseIcon(): JSX.Element {
  return (
    <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
      <path d="M6 5h4v14H6zm8 0h4v14h-4z" fill="currentColor" />
    </svg>
  );
}
