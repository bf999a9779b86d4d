/**
 * The progress bar: played portion, markers (clicks, pages, errors, gap
 * bands) and a handle; a keyboard-operable slider that seeks on click, drag
 * and arrow keys.
 * @module
 */
import { useRef, useState } from "preact/hooks";
import type { JSX } from "preact";
import { formatClock } from "./format.ts";
import { MARKER_LEGEND, percentOf, type TimelineMarker } from "./markers.ts";

/** Props of {@link Timeline}. */
export interface TimelineProps {
  /** Length of the loaded recording, ms. */
  total: number;
  /** Playback position, ms. */
  current: number;
  markers: readonly TimelineMarker[];
  disabled: boolean;
  /** Called with an offset (ms) to move to. */
  onSeek(offset: number): void;
}

const STEP_MS = 5_000;
const PAGE_MS = 30_000;

/** The seek bar with its markers. */
export function Timeline(props: TimelineProps): JSX.Element {
  const { total, current, markers, disabled, onSeek } = props;
  const track = useRef<HTMLDivElement>(null);
  // While dragging, the handle follows the pointer; the seek happens on release.
  const [dragAt, setDragAt] = useState<number | null>(null);

  const offsetAt = (clientX: number) => {
    const rect = track.current?.getBoundingClientRect();
    if (!rect || rect.width <= 0) return 0;
    return Math.min(1, Math.max(0, (clientX - rect.left) / rect.width)) * total;
  };

  const onPointerDown = (event: JSX.TargetedPointerEvent<HTMLDivElement>) => {
    if (disabled || event.button !== 0) return;
    event.currentTarget.setPointerCapture?.(event.pointerId);
    setDragAt(offsetAt(event.clientX));
  };
  const onPointerMove = (event: JSX.TargetedPointerEvent<HTMLDivElement>) => {
    if (dragAt !== null) setDragAt(offsetAt(event.clientX));
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
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={onPointerUp}
      onPointerCancel={() => setDragAt(null)}
      onKeyDown={onKeyDown}
    >
      <div class="rp-track">
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
                title={marker.label}
              />
            )
            : (
              <span
                key={marker.key}
                class={`rp-marker rp-marker--${marker.kind}`}
                data-kind={marker.kind}
                style={{ left: `${percentOf(marker.at, total)}%` }}
                title={`${formatClock(marker.at)} ${marker.label}`}
              />
            )
        )}
        <div class="rp-handle" style={{ left: played }} />
      </div>
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
