/**
 * The activity panel beside the replay: tabs (Activity, Console, Network),
 * one row per feed item, the current row highlighted and kept in view while
 * playback advances; a row click seeks to its moment. The console pane
 * filters by level and text; the network pane lists method, URL, status,
 * duration and size, and shows one request's details.
 * @module
 */
import { Component, type JSX } from "preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import {
  availableTabs,
  CONSOLE_LEVELS,
  consoleLevelCounts,
  consoleLevelOf,
  type FeedItem,
  type FeedKind,
  type FeedTab,
  filterConsole,
  indexAtTime,
  itemsForTab,
} from "./feed.ts";
import { formatBytes, formatClock, formatRequestTime } from "./format.ts";

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
  friction: "Friction",
};
// Rows rendered at once; a window around the current row beyond that.
const MAX_ROWS = 1500;
// After the viewer scrolls the list, leave it where they put it for a while.
const USER_SCROLL_HOLD_MS = 4000;

/** The tabbed feed panel. */
export function Feed({ items, origin, current, onSeek }: FeedProps): JSX.Element {
  const [tab, setTab] = useState<FeedTab>("activity");
  const [levels, setLevels] = useState<ReadonlySet<string>>(() => new Set(CONSOLE_LEVELS));
  const [query, setQuery] = useState("");
  const [selected, setSelected] = useState<string | null>(null);
  const tabs = useMemo(() => availableTabs(items), [items]);
  const activeTab = tabs.includes(tab) ? tab : "activity";
  const tabItems = useMemo(() => itemsForTab(items, activeTab), [items, activeTab]);
  const shown = useMemo(
    () => activeTab === "console" ? filterConsole(tabItems, { levels, query }) : tabItems,
    [tabItems, activeTab, levels, query],
  );
  const list = useRef<HTMLDivElement>(null);
  const userScrolledAt = useRef(0);
  const currentIndex = indexAtTime(shown, origin + current);
  const detail = activeTab === "network" && selected ? shown.find((item) => item.key === selected) : undefined;

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
  const rowState = (i: number) =>
    i + offset === currentIndex ? "current" : i + offset < currentIndex ? "past" : "future";

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
        {activeTab === "console"
          ? (
            <ConsoleFilters
              items={tabItems}
              levels={levels}
              query={query}
              onLevels={setLevels}
              onQuery={setQuery}
            />
          )
          : null}
        {activeTab === "network" && shown.length
          ? (
            <div class="rp-net-head" aria-hidden="true">
              <span>Method</span>
              <span>URL</span>
              <span>Status</span>
              <span>Time</span>
              <span>Size</span>
            </div>
          )
          : null}
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
          {rows.length === 0
            ? (
              <p class="rp-feed-empty">
                {activeTab === "console" && tabItems.length ? "No messages match the filters." : "No activity yet."}
              </p>
            )
            : (
              <ol class={`rp-feed-list${activeTab === "network" ? " rp-net-list" : ""}`}>
                {rows.map((item, i) =>
                  activeTab === "network"
                    ? (
                      <NetworkRow
                        key={item.key}
                        item={item}
                        origin={origin}
                        state={rowState(i)}
                        selected={item.key === selected}
                        onSelect={(key, at) => {
                          setSelected(key);
                          onSeek(at);
                        }}
                      />
                    )
                    : <FeedRow key={item.key} item={item} origin={origin} state={rowState(i)} onSeek={onSeek} />
                )}
              </ol>
            )}
        </div>
        {detail ? <NetworkDetail item={detail} origin={origin} onClose={() => setSelected(null)} /> : null}
      </div>
    </aside>
  );
}

interface FiltersProps {
  items: readonly FeedItem[];
  levels: ReadonlySet<string>;
  query: string;
  onLevels(levels: ReadonlySet<string>): void;
  onQuery(query: string): void;
}

/** Level toggles (the levels present, with counts) and a search box. */
function ConsoleFilters({ items, levels, query, onLevels, onQuery }: FiltersProps): JSX.Element {
  const counts = useMemo(() => consoleLevelCounts(items), [items]);
  const present = CONSOLE_LEVELS.filter((level) => counts.has(level));
  const toggle = (level: string) => {
    const next = new Set(levels);
    if (next.has(level)) next.delete(level);
    else next.add(level);
    onLevels(next);
  };
  return (
    <div class="rp-console-filters" data-testid="console-filters">
      <div class="rp-levels" role="group" aria-label="Console levels">
        {present.map((level) => (
          <button
            key={level}
            type="button"
            class={`rp-level rp-level--${level}`}
            data-level={level}
            aria-pressed={levels.has(level) ? "true" : "false"}
            onClick={() => toggle(level)}
          >
            {level} <span class="rp-tab-count">{counts.get(level)}</span>
          </button>
        ))}
      </div>
      <input
        type="search"
        class="rp-search"
        placeholder="Filter messages"
        aria-label="Filter console messages"
        value={query}
        onInput={(event) => onQuery(event.currentTarget.value)}
      />
    </div>
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
    const level = item.kind === "console" || item.kind === "error" ? consoleLevelOf(item) : undefined;
    return (
      <li
        class={classes.join(" ")}
        data-testid="feed-item"
        data-kind={item.kind}
        data-level={level}
        data-offset={Math.round(offset)}
        data-count={item.count ?? 1}
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

interface NetworkRowProps {
  item: FeedItem;
  origin: number;
  state: "past" | "current" | "future";
  selected: boolean;
  onSelect(key: string, offset: number): void;
}

/** A request: method, URL, status, duration, size. A click selects it (details below) and seeks to it. */
class NetworkRow extends Component<NetworkRowProps> {
  override shouldComponentUpdate(next: NetworkRowProps): boolean {
    const props = this.props;
    return next.item !== props.item || next.state !== props.state || next.origin !== props.origin ||
      next.selected !== props.selected;
  }

  override render({ item, origin, state, selected, onSelect }: NetworkRowProps): JSX.Element {
    const offset = Math.max(0, item.ts - origin);
    const request = item.request;
    const classes = ["rp-item", "rp-item--network", "rp-net-row", `is-${state}`];
    if (item.level) classes.push(`rp-level--${item.level}`);
    if (selected) classes.push("is-selected");
    return (
      <li
        class={classes.join(" ")}
        data-testid="feed-item"
        data-kind="network"
        data-offset={Math.round(offset)}
        aria-current={state === "current" ? "true" : undefined}
      >
        <button
          type="button"
          class="rp-item-button"
          aria-expanded={selected ? "true" : "false"}
          onClick={() => onSelect(item.key, offset)}
        >
          <span class="rp-net-method">{request?.method ?? ""}</span>
          <span class="rp-net-url" title={request?.url}>{shortUrl(request?.url ?? item.text)}</span>
          <span class="rp-net-status">{request ? statusText(request.status, request.failed) : ""}</span>
          <span class="rp-net-time">
            {request?.durationMs === undefined ? "—" : formatRequestTime(request.durationMs)}
          </span>
          <span class="rp-net-size">{request?.size === undefined ? "—" : formatBytes(request.size)}</span>
        </button>
      </li>
    );
  }
}

/** One request in full. */
function NetworkDetail({ item, origin, onClose }: { item: FeedItem; origin: number; onClose(): void }) {
  const request = item.request;
  const facts: Array<[string, string]> = [
    ["URL", request?.url ?? item.text],
    ["Method", request?.method ?? ""],
    ["Status", request ? statusText(request.status, request.failed) : ""],
    ["Started at", formatClock(Math.max(0, item.ts - origin))],
    ["Duration", request?.durationMs === undefined ? "not recorded" : formatRequestTime(request.durationMs)],
    ["Size", request?.size === undefined ? "not recorded" : formatBytes(request.size)],
    ["Via", request?.type ?? "unknown"],
  ];
  return (
    <section class="rp-net-detail" data-testid="network-detail" aria-label="Request details">
      <div class="rp-net-detail-head">
        <strong>Request</strong>
        <button type="button" class="rp-button rp-close" aria-label="Close request details" onClick={onClose}>
          ×
        </button>
      </div>
      <dl>
        {facts.map(([name, value]) => (
          <div key={name}>
            <dt>{name}</dt>
            <dd data-field={name.toLowerCase().replace(/\s+/g, "-")}>{value}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

function statusText(status: number, failed: boolean): string {
  return failed || status === 0 ? "failed" : String(status);
}

/** The path and query of a URL on its own line; the full URL is in the title and the details. */
function shortUrl(url: string): string {
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^/]+(\/.*)?$/i.exec(url);
  return match ? match[1] || "/" : url;
}
