/**
 * Scales the static first frame (FirstFrame.tsx) as rrweb-player scales its
 * replay: the recorded viewport fitted into the stage, never enlarged, centred
 * (static/player.css puts its corner at the stage's middle). Runs from the
 * early script, before the player's code, and again when the stage resizes.
 * @module
 */

/** The class the frame is found by (FirstFrame.tsx renders it). */
export const FIRST_FRAME_CLASS = "rp-first-frame";

/** `scale(s)` for a `width` × `height` page in a `boxWidth` × `boxHeight` stage, as rrweb-player computes it. */
export function firstFrameScale(width: number, height: number, boxWidth: number, boxHeight: number): number {
  const scale = Math.min(boxWidth / width, boxHeight / height, 1);
  return Number.isFinite(scale) && scale > 0 ? scale : 1;
}

/** Scales every first frame in `root` now and whenever its stage changes size. */
export function scaleFirstFrames(root: ParentNode): void {
  for (const frame of root.querySelectorAll<HTMLIFrameElement>(`iframe.${FIRST_FRAME_CLASS}`)) {
    const stage = frame.parentElement?.parentElement;
    if (!stage) continue;
    const fit = () => {
      const scale = firstFrameScale(Number(frame.width), Number(frame.height), stage.clientWidth, stage.clientHeight);
      frame.style.transform = `scale(${scale}) translate(-50%, -50%)`;
    };
    fit();
    if (typeof ResizeObserver === "function") {
      const observer = new ResizeObserver(() => frame.isConnected ? fit() : observer.disconnect());
      observer.observe(stage);
    }
  }
}
