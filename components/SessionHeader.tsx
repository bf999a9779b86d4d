/**
 * The session page's header: who, where, when, with what, and the actions
 * (export, delete).
 *
 * @module
 */

import type { SessionEnd, SessionMeta } from "@replaya/recorder/wire";
import type { AgentFacts } from "../lib/sessions/summaries.ts";
import { formatDuration, formatTime } from "./format.ts";
import { StatusBadge } from "./SessionRow.tsx";

/** Props of {@link SessionHeader}. */
export interface SessionHeaderProps {
  meta: SessionMeta;
  live: boolean;
  disconnected?: boolean;
  end?: SessionEnd;
  /** The user agent, parsed on the server. */
  agent: AgentFacts;
}

/** Metadata header of a session page. */
export function SessionHeader({ meta, live, disconnected, end, agent }: SessionHeaderProps) {
  const facts: Array<[string, string | undefined]> = [
    ["Started", formatTime(meta.createdAt)],
    ["Duration", end ? formatDuration(end.lastEventAt - meta.createdAt) : undefined],
    ["User", end?.userId ?? meta.userId],
    ["Source", meta.source],
    ["Entry URL", meta.url],
    ["Referrer", meta.referrer],
    ["Browser", agent.browser ? `${agent.browser} ${agent.browserVersion ?? ""}`.trim() : undefined],
    ["OS", agent.os],
    ["Device", agent.device],
    ["Viewport", meta.viewport ? `${meta.viewport.width}×${meta.viewport.height}` : undefined],
    ["Language", meta.language],
    ["Pages", end ? String(end.pages) : undefined],
    ["Events", end ? String(end.events) : undefined],
    ["Errors", end ? String(end.errors) : undefined],
    ["Lost", end?.dropped ? `${end.dropped} events (see the gap markers)` : undefined],
    [
      "Ended",
      end ? `${formatTime(end.endedAt)} (${end.reason === "lease_expired" ? "went quiet" : "stopped"})` : undefined,
    ],
  ];
  return (
    <header
      class="session-header"
      data-testid="session-header"
      data-status={live ? "live" : "ended"}
      data-session-status-for={meta.id}
    >
      <div class="title">
        <h1>
          Session <code>{meta.id}</code>
        </h1>
        {/* The Player island flips this to Ended when the stream ends (islands/player/header_status.ts). */}
        <span class="session-status" data-session-status={live ? "live" : "ended"}>
          <StatusBadge live={live} disconnected={disconnected} dropped={end?.dropped} />
        </span>
        <div class="actions">
          <a class="button" href={`/api/sessions/${meta.id}/export`} download data-testid="export">Export JSON</a>
          <a class="button danger" href={`/sessions/${meta.id}/delete`} data-testid="delete">Delete…</a>
        </div>
      </div>
      <dl class="facts">
        {facts.filter(([, value]) => value).map(([name, value]) => (
          <div key={name}>
            <dt>{name}</dt>
            <dd title={value}>{value}</dd>
          </div>
        ))}
      </dl>
      {meta.traits && Object.keys(meta.traits).length > 0 && (
        <details class="traits">
          <summary>Traits</summary>
          <pre>{JSON.stringify(meta.traits, null, 2)}</pre>
        </details>
      )}
    </header>
  );
}
