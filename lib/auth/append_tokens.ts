/**
 * Append tokens: HMAC-signed, bound to one session, with an expiry. The
 * recorder gets one when it starts a session and sends it with every batch;
 * nothing else can write to that session.
 *
 * Format: `<sessionId>.<expiresAtSecs>.<signature>`.
 *
 * @module
 */

import { Hmac } from "./hmac.ts";

/** Why a token was refused. */
export type TokenProblem = "missing" | "malformed" | "forged" | "expired" | "wrong_session";

/** The outcome of checking a token. */
export type TokenCheck = { ok: true; expiresAt: number } | { ok: false; problem: TokenProblem };

/**
 * Issues and checks append tokens.
 *
 * @example
 * const tokens = new AppendTokens({ secret: "s3cret", ttlMs: 2 * 3600_000 });
 * const token = await tokens.issue(sessionId);
 * (await tokens.check(token, sessionId)).ok; // true
 */
export class AppendTokens {
  #hmac: Hmac;
  readonly ttlMs: number;
  #now: () => number;

  constructor(options: { secret: string; ttlMs?: number; now?: () => number }) {
    this.#hmac = new Hmac(`append-token:${options.secret}`);
    this.ttlMs = options.ttlMs ?? 2 * 3_600_000;
    this.#now = options.now ?? Date.now;
  }

  /** A token for `sessionId`, valid for the configured lifetime. */
  async issue(sessionId: string): Promise<string> {
    const expires = Math.floor((this.#now() + this.ttlMs) / 1000);
    const payload = `${sessionId}.${expires}`;
    return `${payload}.${await this.#hmac.sign(payload)}`;
  }

  /**
   * Checks a token for `sessionId`. `graceMs` accepts recently expired tokens
   * (used to resume a session from a new page load).
   */
  async check(token: string | undefined | null, sessionId: string, graceMs = 0): Promise<TokenCheck> {
    if (!token) return { ok: false, problem: "missing" };
    const parts = token.split(".");
    if (parts.length !== 3 || !/^\d{1,12}$/.test(parts[1])) return { ok: false, problem: "malformed" };
    const [id, expires, signature] = parts;
    if (!(await this.#hmac.verify(`${id}.${expires}`, signature))) return { ok: false, problem: "forged" };
    if (id !== sessionId) return { ok: false, problem: "wrong_session" };
    const expiresAt = Number(expires) * 1000;
    if (this.#now() > expiresAt + graceMs) return { ok: false, problem: "expired" };
    return { ok: true, expiresAt };
  }

  /** Whether a token should be replaced (less than half its lifetime left). */
  needsRefresh(expiresAt: number): boolean {
    return expiresAt - this.#now() < this.ttlMs / 2;
  }
}
