/**
 * The progress bar: played portion, shaded inactive stretches, markers
 * (clicks, inputs, pages, errors, console, failed requests, gap bands), a
 * handle, and a tip under the pointer saying what happened there; a
 * keyboard-operable slider that seeks on click, drag and arrow keys.
 * @module
 */
import { useRef, useState } from "preact/hooks";
import type { JSX } from "preact";
import { formatClock } from "./format.ts";
import type { Stretch } from "./inactivity.ts";
import { MARKER_LEGEND, markersNear, offsetAtPosition, percentOf, type TimelineMarker } from "./markers.ts";

/** Props of {@link Timeline}. */
export interface TimelineProps {
  /** Length of the loaded recording, ms. */
  total: number;
  /** Playback position, ms. */
  current: number;
  markers: readonly TimelineMarker[];
  /** Inactive stretches, shaded. */
  inactive: readonly Stretch[];
  /** They are skipped during playback. */
  skipping: boolean;
  disabled: boolean;
  /** Called with an offset (ms) to move to. */
  onSeek(offset: number): void;
}

const STEP_MS = 5_000;
const PAGE_MS = 30_000;
// Markers this close to the pointer (px) are listed in the tip.
const HOVER_PX = 6;

/** The seek bar with its markers. */
export function Timeline(props: TimelineProps): JSX.Element {
  const { total, current, markers, inactive, skipping, disabled, onSeek } = props;
  const track = useRef<HTMLDivElement>(null);
  // While dragging, the handle follows the pointer; the seek happens on release.
  const [dragAt, setDragAt] = useState<number | null>(null);
  // Where the pointer hovers (offset, ms), for the tip.
  const [hoverAt, setHoverAt] = useState<{ offset: number; tolerance: number } | null>(null);

  const offsetAt = (clientX: number) => {
    const rect = track.current?.getBoundingClientRect();
    if (!rect || rect.width <= 0) return 0;
    return offsetAtPosition(clientX - rect.left, rect.width, total);
  };

  const onPointerDown = (event: JSX.TargetedPointerEvent<HTMLDivElement>) => {
    if (disabled || event.button !== 0) return;
    event.currentTarget.setPointerCapture?.(event.pointerId);
    setDragAt(offsetAt(event.clientX));
  };
  const onPointerMove = (event: JSX.TargetedPointerEvent<HTMLDivElement>) => {
    const offset = offsetAt(event.clientX);
    if (dragAt !== null) setDragAt(offset);
    const width = track.current?.getBoundingClientRect().width ?? 0;
    if (!disabled && width > 0 && event.pointerType !== "touch") {
      setHoverAt({ offset, tolerance: (HOVER_PX / width) * total });
    }
  };
  const onPointerUp = (event: JSX.TargetedPointerEvent<HTMLDivElement>) => {
    if (dragAt === null) return;
    setDragAt(null);
    onSeek(offsetAt(event.clientX));
  };
  const onKeyDown = (event: JSX.TargetedKeyboardEvent<HTMLDivElement>) => {
    if (disabled) return;
    const moves: Record<string, number> = {
      ArrowLeft: current - STEP_MS,
      ArrowDown: current - STEP_MS,
      ArrowRight: current + STEP_MS,
      ArrowUp: current + STEP_MS,
      PageDown: current - PAGE_MS,
      PageUp: current + PAGE_MS,
      Home: 0,
      End: total,
    };
    if (!(event.key in moves)) return;
    event.preventDefault();
    onSeek(Math.min(total, Math.max(0, moves[event.key])));
  };

  const shown = dragAt ?? current;
  const played = `${percentOf(shown, total)}%`;
  return (
    <div
      class="rp-timeline"
      ref={track}
      role="slider"
      tabIndex={disabled ? -1 : 0}
      aria-label="Playback position"
      aria-disabled={disabled ? "true" : undefined}
      aria-valuemin={0}
      aria-valuemax={Math.round(total / 1000)}
      aria-valuenow={Math.round(shown / 1000)}
      aria-valuetext={`${formatClock(shown)} of ${formatClock(total)}`}
      data-testid="timeline"
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={onPointerUp}
      onPointerCancel={() => setDragAt(null)}
      onPointerLeave={() => setHoverAt(null)}
      onKeyDown={onKeyDown}
    >
      <div class="rp-track">
        {inactive.map((stretch) => (
          <span
            key={stretch.start}
            class="rp-inactive"
            data-testid="inactive-stretch"
            data-start={Math.round(stretch.start)}
            data-end={Math.round(stretch.end)}
            style={{
              left: `${percentOf(stretch.start, total)}%`,
              width: `${percentOf(stretch.end - stretch.start, total)}%`,
            }}
          />
        ))}
        <div class="rp-played" style={{ width: played }} />
        {markers.map((marker) =>
          marker.kind === "gap"
            ? (
              <span
                key={marker.key}
                class="rp-marker rp-marker--gap"
                data-kind="gap"
                style={{
                  left: `${percentOf(marker.at, total)}%`,
                  width: `${percentOf((marker.end ?? marker.at) - marker.at, total)}%`,
                }}
              />
            )
            : (
              <span
                key={marker.key}
                class={`rp-marker rp-marker--${marker.kind}${marker.level ? ` rp-marker--${marker.level}` : ""}`}
                data-kind={marker.kind}
                style={{ left: `${percentOf(marker.at, total)}%` }}
              />
            )
        )}
        <div class="rp-handle" style={{ left: played }} />
      </div>
      {hoverAt && dragAt === null && total > 0
        ? <TimelineTip {...hoverAt} total={total} markers={markers} inactive={inactive} skipping={skipping} />
        : null}
    </div>
  );
}

interface TipProps {
  offset: number;
  tolerance: number;
  total: number;
  markers: readonly TimelineMarker[];
  inactive: readonly Stretch[];
  skipping: boolean;
}

/** What happened under the pointer: the time, the markers there, an inactive stretch. */
function TimelineTip({ offset, tolerance, total, markers, inactive, skipping }: TipProps): JSX.Element {
  const near = markersNear(markers, offset, tolerance);
  const stretch = inactive.find((s) => offset >= s.start && offset <= s.end);
  const at = near.length ? near[0].at : offset;
  const left = Math.min(92, Math.max(8, percentOf(at, total)));
  return (
    <div class="rp-tip" role="tooltip" data-testid="timeline-tip" style={{ left: `${left}%` }}>
      <span class="rp-tip-time">{formatClock(at)}</span>
      {near.map((marker) => (
        <span key={marker.key} class="rp-tip-row" data-kind={marker.kind}>
          <span
            class={`rp-swatch rp-swatch--${marker.kind}${marker.level ? ` rp-swatch--${marker.level}` : ""}`}
            aria-hidden="true"
          />
          <span class="rp-tip-label">{marker.label}</span>
        </span>
      ))}
      {stretch && !near.length
        ? (
          <span class="rp-tip-row" data-kind="inactive">
            <span class="rp-swatch rp-swatch--inactive" aria-hidden="true" />
            <span class="rp-tip-label">
              Inactive for {Math.round((stretch.end - stretch.start) / 1000)} s{skipping ? " (skipped)" : ""}
            </span>
          </span>
        )
        : null}
    </div>
  );
}

/** Colour key of the timeline markers. */
export function Legend(): JSX.Element {
  return (
    <ul class="rp-legend" aria-label="Timeline markers">
      {MARKER_LEGEND.map(({ kind, label }) => (
        <li key={kind}>
          <span class={`rp-swatch rp-swatch--${kind}`} aria-hidden="true" />
          {label}
        </li>
      ))}
    </ul>
  );
}
