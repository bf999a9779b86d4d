/**
 * The live wall: every live session at once, as a grid of small muted live
 * replays, over one multiplexed SSE stream (`/api/wall`, see
 * islands/wall/stream.ts). Tiles come and go with their sessions without a
 * reload; a tile renders only while it is on screen and the page is visible
 * (islands/wall/wall.ts), and a click opens the full player, which follows
 * the live edge of a live session by itself. Rendered on the server empty;
 * everything touching the DOM runs in effects after hydration.
 * @module
 */
import type { JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { formatDuration, shortUrl } from "../components/format.ts";
import { mountLiveReplayer } from "./player/rrweb_player.ts";
import { openWallStream, type WallFilters, wallStreamUrl } from "./wall/stream.ts";
import { type TileView, WallController, type WallState } from "./wall/wall.ts";

/** Props of the LiveWall island (serialized into the page as JSON). */
export interface LiveWallProps {
  /** The filter form's values (empty = any). */
  filters: WallFilters;
  /** Origin of the API; "" (default) is the page's own. */
  apiBase?: string;
}

/** Tiles this close to the viewport count as on screen, so scrolling finds them already playing. */
const ROOT_MARGIN = "150px 0px";

/** One IntersectionObserver for every tile. */
class TileVisibility {
  #observer: IntersectionObserver | undefined;
  readonly #callbacks = new Map<Element, (visible: boolean) => void>();

  observe(target: Element, onChange: (visible: boolean) => void): () => void {
    if (typeof IntersectionObserver === "undefined") {
      onChange(true);
      return () => {};
    }
    this.#observer ??= new IntersectionObserver((entries) => {
      for (const entry of entries) this.#callbacks.get(entry.target)?.(entry.isIntersecting);
    }, { rootMargin: ROOT_MARGIN });
    this.#callbacks.set(target, onChange);
    this.#observer.observe(target);
    return () => {
      this.#callbacks.delete(target);
      this.#observer?.unobserve(target);
    };
  }

  disconnect(): void {
    this.#observer?.disconnect();
    this.#callbacks.clear();
  }
}

/** The wall. */
export default function LiveWall(props: LiveWallProps): JSX.Element {
  const [visibility] = useState(() => new TileVisibility());
  // Constructing the controller touches nothing outside itself; start() (in an effect) opens the stream.
  const [controller] = useState(() =>
    new WallController<HTMLElement>({
      connect: (handlers) => openWallStream(wallStreamUrl(props.apiBase ?? "", props.filters), handlers),
      mount: (target, events, options) => {
        // A failed earlier attempt may have left part of a player behind.
        target.replaceChildren();
        return mountLiveReplayer(target, events, options);
      },
      measure: (target) => ({ width: target.clientWidth || 320, height: target.clientHeight || 200 }),
      observe: (target, onChange) => visibility.observe(target, onChange),
    })
  );
  const [state, setState] = useState<WallState>(controller.state);
  const [now, setNow] = useState(() => Date.now());

  useEffect(() => {
    const unsubscribe = controller.subscribe(setState);
    const onVisibility = () => controller.setPageVisible(document.visibilityState !== "hidden");
    document.addEventListener("visibilitychange", onVisibility);
    onVisibility();
    controller.start();
    return () => {
      unsubscribe();
      document.removeEventListener("visibilitychange", onVisibility);
      controller.destroy();
      visibility.disconnect();
    };
  }, [controller, visibility]);

  // Durations tick once a second, and not while the page is hidden.
  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState !== "hidden") setNow(Date.now());
    }, 1000);
    return () => clearInterval(timer);
  }, []);

  const count = state.tiles.length;
  const filtered = Boolean(props.filters.user || props.filters.source || props.filters.url);
  return (
    <section class="wall" data-testid="wall" data-tiles={count} data-connected={String(state.connected)}>
      <p class="wall-summary" role="status">
        {state.connected
          ? <>{count === 1 ? "1 live session" : `${count} live sessions`}</>
          : <span class="muted">Connecting…</span>}
      </p>
      {count === 0
        ? (
          <div class="empty" data-testid="wall-empty">
            <p>
              {filtered ? "No live session matches these filters." : "No live sessions right now."}{" "}
              They appear here as they start.
            </p>
          </div>
        )
        : (
          <div class="wall-grid">
            {state.tiles.map((tile) => <Tile key={tile.key} tile={tile} now={now} controller={controller} />)}
          </div>
        )}
    </section>
  );
}

function Tile(
  { tile, now, controller }: { tile: TileView; now: number; controller: WallController<HTMLElement> },
): JSX.Element {
  const mount = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const target = mount.current;
    if (!target) return;
    controller.attach(tile.id, target);
    const resizes = typeof ResizeObserver === "undefined"
      ? undefined
      : new ResizeObserver(() => controller.resize(tile.id, target.clientWidth, target.clientHeight));
    resizes?.observe(target);
    return () => {
      resizes?.disconnect();
      controller.detach(tile.id);
    };
    // A new key is a new tile (the wall started over), which must attach again.
  }, [controller, tile.key]);

  const user = tile.user ?? "anonymous";
  const wait = tile.error
    ? "This page could not be replayed."
    : !tile.ready
    ? "Waiting for the first snapshot…"
    : tile.active
    ? "Loading…"
    : "Paused";
  return (
    <article
      class={`wall-tile${tile.errors > 0 ? " has-errors" : ""}`}
      data-testid="wall-tile"
      data-session={tile.id}
      data-state={tile.active ? "live" : "paused"}
      data-mounted={String(tile.mounted)}
      data-events={tile.events}
      data-clicks={tile.clicks}
      data-errors={tile.errors}
      data-applied={tile.applied}
      data-pending={tile.pending}
    >
      <div class="wall-stage">
        <div class="wall-mount" ref={mount} />
        {tile.mounted ? null : <p class="wall-wait">{wait}</p>}
      </div>
      <div class="wall-facts">
        <a
          class="wall-open"
          href={`/sessions/${encodeURIComponent(tile.id)}`}
          data-testid="wall-open"
          title={`Open ${user}'s session at the live edge`}
        >
          <span class="wall-user">{user}</span>
        </a>
        {tile.clicks > 0
          ? (
            <span class="wall-clicks" title={tile.clicks === 1 ? "1 click" : `${tile.clicks} clicks`}>
              {/* Keyed by the count: a new click restarts the flash. */}
              <span class="wall-click-flash" key={tile.clicks} aria-hidden="true" />
              {tile.clicks}
            </span>
          )
          : null}
        <span class="wall-duration" title="Duration">{formatDuration(now - tile.createdAt)}</span>
        {tile.errors > 0
          ? (
            <span class="badge wall-errors" data-testid="wall-errors">
              {tile.errors === 1 ? "1 error" : `${tile.errors} errors`}
            </span>
          )
          : null}
        <span class="wall-page" title={tile.page}>{shortUrl(tile.page)}</span>
      </div>
    </article>
  );
}
