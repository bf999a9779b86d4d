/**
 * Shows sessions that start while the list is open, without a reload: it
 * follows the index stream over SSE (`/api/sessions/feed`).
 *
 * @module
 */

import { useEffect, useState } from "preact/hooks";
import type { SessionRow as Row } from "@replaya/recorder/wire";
import { COLUMNS, SessionRow } from "../components/SessionRow.tsx";

/** Props of {@link LiveSessions}. */
export interface LiveSessionsProps {
  /** Off on filtered or later pages, where new sessions would not belong. */
  enabled: boolean;
}

/** A table of newly started sessions, newest first; hidden while empty. */
export default function LiveSessions({ enabled }: LiveSessionsProps) {
  const [rows, setRows] = useState<Row[]>([]);
  // The feed is positioned before it answers, so once open no new session can be missed.
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    if (!enabled) return;
    const source = new EventSource("/api/sessions/feed");
    source.onopen = () => setConnected(true);
    source.onerror = () => setConnected(false);
    source.addEventListener("session", (event) => {
      try {
        const start = JSON.parse((event as MessageEvent).data);
        setRows((current) =>
          current.some((r) => r.id === start.id)
            ? current
            : [{ ...start, live: true, durationMs: undefined }, ...current]
        );
      } catch {
        // a malformed entry is skipped, the feed goes on
      }
    });
    return () => source.close();
  }, [enabled]);
  if (rows.length === 0) return <div data-testid="live-sessions" data-count="0" data-connected={String(connected)} />;
  return (
    <section
      class="new-sessions"
      data-testid="live-sessions"
      data-count={rows.length}
      data-connected={String(connected)}
    >
      <h2>
        New since you opened this page <span class="badge live">{rows.length}</span>
      </h2>
      <table class="sessions">
        <thead>
          <tr>{COLUMNS.map((c) => <th key={c}>{c}</th>)}</tr>
        </thead>
        <tbody>{rows.map((row) => <SessionRow key={row.id} row={row} />)}</tbody>
      </table>
    </section>
  );
}
