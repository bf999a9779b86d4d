/**
 * Runs before the Player island's code has arrived (a small classic script
 * placed right after the island's markup): opens each player's session stream
 * so its first records are already in the browser when the player starts, and
 * scales the static first frame the server wrote into the stage.
 * @module
 */
import { islandProps } from "./island_props.ts";
import { openEarlyStream } from "./player/early_stream.ts";
import { sessionStreamUrl } from "./player/stream.ts";
import { scaleFirstFrames } from "./player/first_frame_scale.ts";

try {
  for (const { props } of islandProps("Player")) {
    if (typeof props.sessionId !== "string") continue;
    openEarlyStream(sessionStreamUrl(typeof props.apiBase === "string" ? props.apiBase : "", props.sessionId));
  }
} catch {
  // Malformed props: nothing opened early; the player opens its stream itself.
}

try {
  scaleFirstFrames(document);
} catch {
  // Shown unscaled (cropped by the stage) until the player's own frame replaces it.
}
