/** Turning arbitrary thrown values and console arguments into bounded text. */

/** Cuts `text` to at most `max` characters, marking the cut with an ellipsis. */
export function truncate(text: string, max: number): string {
  return text.length > max ? text.slice(0, max - 1) + "…" : text;
}

/** A readable one-line rendering of any value, never throwing. */
export function formatValue(value: unknown): string {
  try {
    if (typeof value === "string") return value;
    if (value instanceof Error) return `${value.name}: ${value.message}`;
    if (
      value === undefined || typeof value === "function" ||
      typeof value === "symbol"
    ) {
      return String(value);
    }
    if (typeof value === "object" && value !== null) {
      return JSON.stringify(value) ?? String(value);
    }
    return String(value);
  } catch {
    // Circular structures, throwing getters or toJSON.
    try {
      return Object.prototype.toString.call(value);
    } catch {
      return "[unprintable]";
    }
  }
}

/** Message and stack of a thrown value or rejection reason. */
export function describeError(
  reason: unknown,
): { message: string; stack?: string } {
  try {
    if (reason && typeof reason === "object" && "message" in reason) {
      const r = reason as {
        name?: unknown;
        message?: unknown;
        stack?: unknown;
      };
      const name = typeof r.name === "string" ? r.name : "Error";
      return {
        message: `${name}: ${String(r.message)}`,
        stack: typeof r.stack === "string" ? r.stack : undefined,
      };
    }
  } catch {
    // Fall through to the generic rendering.
  }
  return { message: formatValue(reason) };
}
