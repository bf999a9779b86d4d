/**
 * The player's keyboard shortcuts: which key does what, where a key is left
 * to the focused control instead, and the list the `?` overlay shows.
 * @module
 */

/** What a shortcut asks the player to do. */
export type ShortcutAction =
  | { type: "toggle" }
  | { type: "seekBy"; ms: number }
  | { type: "speed"; step: 1 | -1 }
  | { type: "start" }
  | { type: "end" }
  | { type: "help" }
  | { type: "close" };

/** The parts of a KeyboardEvent a shortcut depends on. */
export interface KeyPress {
  key: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
}

/** How far the arrow keys and j / l move. */
export const SEEK_STEP_MS = 5_000;

const KEYS: Record<string, ShortcutAction> = {
  " ": { type: "toggle" },
  k: { type: "toggle" },
  ArrowLeft: { type: "seekBy", ms: -SEEK_STEP_MS },
  j: { type: "seekBy", ms: -SEEK_STEP_MS },
  ArrowRight: { type: "seekBy", ms: SEEK_STEP_MS },
  l: { type: "seekBy", ms: SEEK_STEP_MS },
  "<": { type: "speed", step: -1 },
  ">": { type: "speed", step: 1 },
  Home: { type: "start" },
  End: { type: "end" },
  "?": { type: "help" },
  Escape: { type: "close" },
};

/** The action of a key press, or undefined (modifier chords are the browser's). */
export function shortcutFor(press: KeyPress): ShortcutAction | undefined {
  if (press.ctrlKey || press.metaKey || press.altKey) return undefined;
  const key = press.key.length === 1 && press.key !== " " ? press.key.toLowerCase() : press.key;
  // "<" and ">" are shifted keys; a shifted letter (K) is the same as the letter.
  return KEYS[key] ?? KEYS[press.key];
}

/** What the focused element is, as far as shortcuts care. */
export type FocusKind =
  /** Text entry (input, textarea, select, contenteditable): every key is typing. */
  | "text"
  /** A button or link: Space and Enter activate it. */
  | "button"
  /** A control that uses the arrow keys and Home / End itself (the timeline, the feed's tabs). */
  | "arrows"
  /** Anything else in the player, or the page itself. */
  | "other";

// Keys a slider or a tab list handles itself.
const CONTROL_KEYS = new Set(["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End", "PageUp", "PageDown"]);

/** Whether the shortcut of `key` should act with this kind of element focused. */
export function shortcutApplies(key: string, action: ShortcutAction, focus: FocusKind): boolean {
  if (focus === "text") return action.type === "close";
  if (focus === "button" && key === " ") return false;
  if (focus === "arrows" && CONTROL_KEYS.has(key)) return false;
  return true;
}

/** Classifies a focused element (the event's target) for {@link shortcutApplies}. */
export function focusKindOf(target: Element | null): FocusKind {
  if (!target) return "other";
  if (target.closest("input, textarea, select, [contenteditable]:not([contenteditable=false])")) {
    const input = target.closest("input");
    // A checkbox takes Space but no typing.
    if (input && (input.type === "checkbox" || input.type === "radio")) return "button";
    return "text";
  }
  if (target.closest("[role=slider], [role=tab]")) return "arrows";
  if (target.closest("button, a[href], summary")) return "button";
  return "other";
}

/** The help overlay's rows: keys and what they do. */
export const SHORTCUT_HELP: ReadonlyArray<{ keys: string[]; label: string }> = [
  { keys: ["Space", "K"], label: "Play / pause" },
  { keys: ["←", "J"], label: "Back 5 seconds" },
  { keys: ["→", "L"], label: "Forward 5 seconds" },
  { keys: ["<", ">"], label: "Slower / faster" },
  { keys: ["Home", "End"], label: "Go to the start / the end" },
  { keys: ["?"], label: "Show or hide these shortcuts" },
  { keys: ["Esc"], label: "Close this panel" },
];
