/** The server's version, reported by /api/health and sent to recorders. */
export const VERSION = "0.1.0";
