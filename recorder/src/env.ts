/**
 * The real browser behind `RecorderEnv`. Touches globals only when called,
 * so importing the package during server-side rendering is harmless.
 * @module
 */
import { canGzip, offThreadGzip } from "./compress.ts";
import type { RecorderEnv, RecordFn } from "./recorder.ts";
import { memoryStorage, type StorageLike } from "./session.ts";

function sessionStorageOrMemory(win: Window): StorageLike {
  try {
    const s = win.sessionStorage;
    const probe = "replaya:probe";
    s.setItem(probe, "1");
    s.removeItem(probe);
    return s;
  } catch {
    // Blocked storage (sandbox, privacy settings): sessions won't span page loads.
    return memoryStorage();
  }
}

function randomId(): string {
  const bytes = new Uint8Array(16);
  try {
    crypto.getRandomValues(bytes);
  } catch {
    for (let i = 0; i < bytes.length; i++) {
      bytes[i] = Math.floor(Math.random() * 256);
    }
  }
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function timezone(): string {
  try {
    // Temporal answers in ~0.1 ms; a DateTimeFormat is built whole to say it (~18 ms on first use, Chromium 156).
    const temporal = (globalThis as { Temporal?: { Now?: { timeZoneId?: () => string } } }).Temporal;
    if (typeof temporal?.Now?.timeZoneId === "function") return temporal.Now.timeZoneId();
    return Intl.DateTimeFormat().resolvedOptions().timeZone ?? "";
  } catch {
    return "";
  }
}

/** Builds the environment from `window`; undefined outside a browser. */
export function browserEnv(
  record: RecordFn,
  warn: (message: string) => void,
): RecorderEnv | undefined {
  if (typeof window === "undefined" || typeof document === "undefined") {
    return undefined;
  }
  const win = window;
  const doc = document;
  // Bound before the network capture wraps window.fetch, so uploads are never recorded.
  const nativeFetch = win.fetch.bind(win);
  // Intl is slow to ask (~15 ms the first time), and the zone does not change.
  let zone: string | undefined;
  return {
    clock: {
      now: () => Date.now(),
      setTimeout: (fn, ms) => win.setTimeout(fn, ms),
      clearTimeout: (id) => win.clearTimeout(id as number),
    },
    random: Math.random,
    id: randomId,
    fetch: nativeFetch,
    gzip: canGzip() ? offThreadGzip() : undefined,
    storage: sessionStorageOrMemory(win),
    record,
    warn,
    page: () => ({
      url: win.location.href,
      referrer: doc.referrer,
      userAgent: navigator.userAgent,
      viewport: { width: win.innerWidth, height: win.innerHeight },
      screen: {
        width: win.screen?.width ?? 0,
        height: win.screen?.height ?? 0,
      },
      language: navigator.language ?? "",
      timezone: zone ??= timezone(),
    }),
    href: () => win.location.href,
    gpc: () =>
      (navigator as { globalPrivacyControl?: unknown }).globalPrivacyControl ===
        true,
    isVisible: () => doc.visibilityState !== "hidden",
    listen: (target, type, fn) => {
      const t: EventTarget = target === "window" ? win : doc;
      const opts = { capture: true, passive: true };
      t.addEventListener(type, fn, opts);
      return () => t.removeEventListener(type, fn, opts);
    },
    errorTarget: win,
    networkTarget: win as unknown as RecorderEnv["networkTarget"],
    navigationTarget: win,
    console: win.console as unknown as RecorderEnv["console"],
    resolveUrl: (url) => {
      try {
        return new URL(url, win.location.href).href;
      } catch {
        return url;
      }
    },
  };
}
