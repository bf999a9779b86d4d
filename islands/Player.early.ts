/**
 * Runs before the Player island's code has arrived (a small classic script
 * placed right after the island's markup): opens each player's session stream
 * so its first records are already in the browser when the player starts.
 * @module
 */
import { openEarlyStream } from "./player/early_stream.ts";
import { sessionStreamUrl } from "./player/stream.ts";

for (const marker of document.querySelectorAll<HTMLElement>('[data-island="Player"]')) {
  const source = marker.dataset.props ? document.getElementById(marker.dataset.props) : null;
  try {
    const props = JSON.parse(source?.textContent ?? "{}") as { sessionId?: unknown; apiBase?: unknown };
    if (typeof props.sessionId !== "string") continue;
    openEarlyStream(sessionStreamUrl(typeof props.apiBase === "string" ? props.apiBase : "", props.sessionId));
  } catch {
    // The player opens its stream itself.
  }
}
