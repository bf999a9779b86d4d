/**
 * Script-tag build entry: installs `window.replaya`, replays the calls the
 * loader snippet queued before this file arrived, then starts from the
 * script tag's `data-*` attributes when it has them (no inline script needed).
 * @module
 */
import { optionsFromAttributes } from "./attributes.ts";
import { client } from "./client.ts";
import { installGlobal } from "./queue.ts";

// Only set while this file runs for the first time, so read it now.
const script = typeof document !== "undefined" ? document.currentScript as HTMLScriptElement | null : null;

try {
  // Included twice: the first copy records, this one stays out of the way.
  const second = (globalThis as { replaya?: { loaded?: unknown } }).replaya?.loaded === true;
  installGlobal(globalThis as unknown as Record<string, unknown>, client);
  if (script && !second) {
    const { options, problems } = optionsFromAttributes((name) => script.getAttribute(name), script.src);
    if (problems.length > 0) console.warn(`replaya: ignored script attributes: ${problems.join(", ")}`);
    // A queued `replaya("init", …)` came first and wins; this one is then ignored.
    if (options) client.init(options);
  }
} catch {
  // Never break the host page.
}
