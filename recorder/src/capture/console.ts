/**
 * Console messages at chosen levels, recorded as `replaya.console` payloads
 * truncated to 1000 characters. The original method always runs.
 * @module
 */
import type { ConsoleLevel } from "../api.ts";
import { stripUrlsInText, type UrlPolicy } from "../url.ts";
import { formatValue, truncate } from "./format.ts";

/** Longest recorded console message. */
export const MAX_CONSOLE_MESSAGE = 1000;

type ConsoleLike = Partial<Record<ConsoleLevel, (...args: unknown[]) => void>>;

/** Wraps `con[level]` for each level; returns the uninstaller. */
export function installConsoleCapture(
  con: ConsoleLike,
  levels: readonly ConsoleLevel[],
  record: (payload: Record<string, unknown>) => void,
  policy: UrlPolicy,
): () => void {
  const restores: Array<() => void> = [];
  // Recording may itself log (e.g. a framework hook); don't record recursively.
  let busy = false;
  for (const level of levels) {
    const original = con[level];
    if (typeof original !== "function") continue;
    const wrapped = function (this: unknown, ...args: unknown[]) {
      if (!busy) {
        busy = true;
        try {
          const text = args.map(formatValue).join(" ");
          record({
            level,
            message: truncate(
              stripUrlsInText(text, policy),
              MAX_CONSOLE_MESSAGE,
            ),
          });
        } catch {
          // The host's log call must go through regardless.
        } finally {
          busy = false;
        }
      }
      return original.apply(this, args);
    };
    con[level] = wrapped;
    restores.push(() => {
      if (con[level] === wrapped) con[level] = original;
    });
  }
  return () => restores.forEach((r) => r());
}
