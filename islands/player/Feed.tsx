/**
 * The activity panel beside the replay: tabs (Activity, Console, Network),
 * one row per feed item, the current row highlighted and kept in view while
 * playback advances; a row click seeks to its moment.
 * @module
 */
import { Component, type JSX } from "preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { availableTabs, type FeedItem, type FeedKind, type FeedTab, indexAtTime, itemsForTab } from "./feed.ts";
import { formatClock } from "./format.ts";

/** Props of {@link Feed}. */
export interface FeedProps {
  items: readonly FeedItem[];
  /** Capture time of offset 0. */
  origin: number;
  /** Playback position, ms from `origin`. */
  current: number;
  /** Called with an offset (ms) to move to. */
  onSeek(offset: number): void;
}

const TAB_LABEL: Record<FeedTab, string> = { activity: "Activity", console: "Console", network: "Network" };
const KIND_LABEL: Record<FeedKind, string> = {
  click: "Click",
  page: "Page",
  input: "Input",
  error: "Error",
  console: "Console",
  network: "Network",
  track: "Event",
  identify: "User",
  gap: "Gap",
};
// Rows rendered at once; a window around the current row beyond that.
const MAX_ROWS = 1500;
// After the viewer scrolls the list, leave it where they put it for a while.
const USER_SCROLL_HOLD_MS = 4000;

/** The tabbed feed panel. */
export function Feed({ items, origin, current, onSeek }: FeedProps): JSX.Element {
  const [tab, setTab] = useState<FeedTab>("activity");
  const tabs = useMemo(() => availableTabs(items), [items]);
  const activeTab = tabs.includes(tab) ? tab : "activity";
  const shown = useMemo(() => itemsForTab(items, activeTab), [items, activeTab]);
  const list = useRef<HTMLDivElement>(null);
  const userScrolledAt = useRef(0);
  const currentIndex = indexAtTime(shown, origin + current);

  const start = Math.max(0, Math.min(currentIndex - MAX_ROWS / 2, shown.length - MAX_ROWS));
  const rows = shown.length > MAX_ROWS ? shown.slice(start, start + MAX_ROWS) : shown;
  const offset = shown.length > MAX_ROWS ? start : 0;

  useEffect(() => {
    const box = list.current;
    if (!box || currentIndex < 0 || Date.now() - userScrolledAt.current < USER_SCROLL_HOLD_MS) return;
    const row = box.querySelector<HTMLElement>(".rp-item.is-current");
    if (!row) return;
    const top = row.offsetTop;
    if (top < box.scrollTop || top + row.offsetHeight > box.scrollTop + box.clientHeight) {
      box.scrollTop = Math.max(0, top - box.clientHeight / 3);
    }
  }, [currentIndex, activeTab]);

  const onTabKey = (event: JSX.TargetedKeyboardEvent<HTMLButtonElement>) => {
    const at = tabs.indexOf(activeTab);
    const next = event.key === "ArrowRight" ? at + 1 : event.key === "ArrowLeft" ? at - 1 : -2;
    if (next === -2) return;
    event.preventDefault();
    const target = tabs[(next + tabs.length) % tabs.length];
    setTab(target);
    event.currentTarget.parentElement?.querySelector<HTMLElement>(`[data-tab="${target}"]`)?.focus();
  };
  const markUserScroll = () => {
    userScrolledAt.current = Date.now();
  };

  return (
    <aside class="rp-side" aria-label="Session activity">
      <div class="rp-side-inner">
        <div class="rp-tabs" role="tablist" aria-label="Activity views">
          {tabs.map((name) => (
            <button
              key={name}
              type="button"
              role="tab"
              id={`rp-tab-${name}`}
              data-tab={name}
              aria-selected={name === activeTab ? "true" : "false"}
              aria-controls="rp-feed-panel"
              tabIndex={name === activeTab ? 0 : -1}
              class="rp-tab"
              onClick={() => setTab(name)}
              onKeyDown={onTabKey}
            >
              {TAB_LABEL[name]}
              <span class="rp-tab-count">{name === "activity" ? items.length : itemsForTab(items, name).length}</span>
            </button>
          ))}
        </div>
        <div
          class="rp-feed"
          id="rp-feed-panel"
          role="tabpanel"
          aria-labelledby={`rp-tab-${activeTab}`}
          ref={list}
          onWheel={markUserScroll}
          onTouchStart={markUserScroll}
          onPointerDown={markUserScroll}
        >
          {rows.length === 0 ? <p class="rp-feed-empty">No activity yet.</p> : (
            <ol class="rp-feed-list">
              {rows.map((item, i) => (
                <FeedRow
                  key={item.key}
                  item={item}
                  origin={origin}
                  state={i + offset === currentIndex ? "current" : i + offset < currentIndex ? "past" : "future"}
                  onSeek={onSeek}
                />
              ))}
            </ol>
          )}
        </div>
      </div>
    </aside>
  );
}

interface RowProps {
  item: FeedItem;
  origin: number;
  state: "past" | "current" | "future";
  onSeek(offset: number): void;
}

/** One feed row; re-renders only when its item or highlight changes (the list can be long). */
class FeedRow extends Component<RowProps> {
  override shouldComponentUpdate(next: RowProps): boolean {
    const props = this.props;
    return next.item !== props.item || next.state !== props.state || next.origin !== props.origin;
  }

  override render({ item, origin, state, onSeek }: RowProps): JSX.Element {
    const offset = Math.max(0, item.ts - origin);
    const classes = ["rp-item", `rp-item--${item.kind}`, `is-${state}`];
    if (item.level) classes.push(`rp-level--${item.level}`);
    return (
      <li
        class={classes.join(" ")}
        data-testid="feed-item"
        data-kind={item.kind}
        data-offset={Math.round(offset)}
        aria-current={state === "current" ? "true" : undefined}
      >
        <button type="button" class="rp-item-button" onClick={() => onSeek(offset)}>
          <span class="rp-item-time">{formatClock(offset)}</span>
          <span class="rp-item-kind">{item.kind === "console" && item.level ? item.level : KIND_LABEL[item.kind]}</span>
          <span class="rp-item-text">
            {item.text}
            {item.count && item.count > 1 ? <span class="rp-item-count">×{item.count}</span> : null}
          </span>
          {item.detail ? <span class="rp-item-detail">{item.detail}</span> : null}
        </button>
      </li>
    );
  }
}
