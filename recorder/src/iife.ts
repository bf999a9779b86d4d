/**
 * Script-tag build entry: installs `window.replaya` and replays the calls the
 * loader snippet queued before this file arrived.
 * @module
 */
import { consent, identify, init, stop, track } from "./mod.ts";
import { installGlobal } from "./queue.ts";

try {
  installGlobal(globalThis as unknown as Record<string, unknown>, {
    init,
    identify,
    track,
    consent,
    stop,
  });
} catch {
  // Never break the host page.
}
