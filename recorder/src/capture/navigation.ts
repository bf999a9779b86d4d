/**
 * In-page navigations of single-page apps: `history.pushState`/`replaceState`,
 * `popstate` and `hashchange` change the URL without a page load, so rrweb
 * writes no Meta event for them. This reports each new `location.href`.
 * @module
 */

/** The window parts the capture uses. */
export interface NavigationTarget {
  history: History;
  location: { href: string };
  addEventListener(type: string, fn: () => void): void;
  removeEventListener(type: string, fn: () => void): void;
}

const WRAPPED = "__replaya";
type HistoryFn = History["pushState"];
type Wrapper = HistoryFn & { [WRAPPED]?: { active: boolean } };

/**
 * Calls `onPage(href)` after every navigation that changed `location.href`
 * (the same URL again is nothing). The history methods are wrapped: the
 * page's call runs first, unchanged, with its return value and exceptions;
 * the report runs after it and never throws. Returns the remover, which puts
 * the original methods back (or, when another script wrapped them since,
 * leaves the wrapper in place but inert).
 */
export function installNavigationCapture(
  target: NavigationTarget,
  onPage: (href: string) => void,
): () => void {
  let last = target.location.href;
  const check = () => {
    try {
      const href = target.location.href;
      if (href === last) return;
      last = href;
      onPage(href);
    } catch {
      // Never break the page's navigation.
    }
  };
  const history = target.history;
  const undo: Array<() => void> = [];
  for (const name of ["pushState", "replaceState"] as const) {
    try {
      const original = history[name] as Wrapper;
      // Installed twice on one page: a live wrapper already reports.
      if (original[WRAPPED]?.active) continue;
      const state = { active: true };
      const wrapper: Wrapper = function (this: History, ...args: Parameters<HistoryFn>) {
        const result = original.apply(this, args);
        if (state.active) check();
        return result;
      };
      wrapper[WRAPPED] = state;
      history[name] = wrapper;
      undo.push(() => {
        state.active = false;
        if (history[name] === wrapper) history[name] = original;
      });
    } catch {
      // A frozen or exotic history object: events still report back/forward.
    }
  }
  for (const type of ["popstate", "hashchange"]) {
    target.addEventListener(type, check);
    undo.push(() => target.removeEventListener(type, check));
  }
  return () => {
    for (const fn of undo.splice(0)) {
      try {
        fn();
      } catch {
        // Best effort: the wrapper is inert anyway.
      }
    }
  };
}
