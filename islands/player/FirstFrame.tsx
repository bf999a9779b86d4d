/**
 * The recording's first frame, before the player's code has arrived: the
 * server writes the first full snapshot as a static document
 * (lib/sessions/first_frame.ts) into a sandboxed `<iframe srcdoc>` (no
 * tokens: no scripts, no forms, a unique origin), placed and scaled where the
 * replay will be (Player.early.ts scales it; static/player.css centres it).
 * The hydrated island keeps that markup as the server wrote it (an empty
 * `dangerouslySetInnerHTML` is not applied while hydrating) until rrweb shows
 * its own first frame, then removes it.
 * @module
 */
import { FIRST_FRAME_CLASS } from "./first_frame_scale.ts";

/** The first frame as the server passes it (never serialized into the island's props). */
export interface FirstFrameProps {
  html: string;
  width: number;
  height: number;
}

export function FirstFrame({ frame, done }: { frame?: FirstFrameProps; done: boolean }) {
  if (done) return null;
  if (!frame) return <div class="rp-first" data-testid="first-frame" dangerouslySetInnerHTML={{ __html: "" }} />;
  return (
    <div class="rp-first" data-testid="first-frame">
      <iframe
        class={FIRST_FRAME_CLASS}
        sandbox=""
        srcdoc={frame.html}
        width={frame.width}
        height={frame.height}
        title="The recording's first frame"
        aria-hidden="true"
        tabIndex={-1}
        referrerpolicy="no-referrer"
        // Not on the page's critical path: the recorded site's image hosts (slow, or gone with their TCP
        // timeouts) must not hold the dashboard's load event. Lazy frames in view still load at once.
        loading="lazy"
      />
    </div>
  );
}
