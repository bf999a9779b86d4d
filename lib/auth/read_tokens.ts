/**
 * Read tokens: named API tokens for the CLI, the MCP server and scrapers,
 * minted and revoked on the dashboard (`/settings/tokens`). They are not the
 * admin token and open no page: they authorize GET (and HEAD) on the JSON
 * API, `/mcp`, and, with the `delete` scope, `DELETE /api/sessions/{id}`; a
 * token of the `ops` scope reads `/metrics` and `/api/health` and nothing else.
 *
 * Kept in the `auth/read-tokens` stream, shared by every process on one
 * store: a `mint` record holds the token's SHA-256 (never the token, which is
 * shown once), a `revoke` record ends it. Each process reads the stream whole
 * at start and follows it, so a revocation on one process is refused by all
 * of them within one follow delivery (and at once on the process that made
 * it). Tokens expire (at most a year); the stream keeps records a little
 * longer than that, and is never deleted for being empty.
 *
 * Token format: `rpt_` + 43 base64url characters (32 random bytes).
 *
 * @module
 */

import { base64url } from "../bytes.ts";
import { followSidecar, type StreamStore } from "../store/mod.ts";

/** The stream of minted and revoked read tokens. */
export const READ_TOKENS_STREAM = "auth/read-tokens";
/** Every read token starts with this, so a bearer value is told apart from the admin token without a lookup. */
export const READ_TOKEN_PREFIX = "rpt_";
/** What a token may do: `read` (GET the API), `delete` (that, and delete sessions), `ops` (GET the ops routes only). */
export type ReadTokenScope = "read" | "delete" | "ops";
/** Every scope, as the tokens page offers them. */
export const READ_TOKEN_SCOPES: readonly ReadTokenScope[] = ["read", "delete", "ops"];

/** Whether `value` names a scope. */
export function isReadTokenScope(value: unknown): value is ReadTokenScope {
  return READ_TOKEN_SCOPES.includes(value as ReadTokenScope);
}
/** The longest a token lives. */
export const MAX_TOKEN_DAYS = 365;
/** Records outlive the longest-lived token. */
const RETENTION_SECS = (MAX_TOKEN_DAYS + 5) * 86_400;
const TOKEN_PATTERN = /^rpt_[A-Za-z0-9_-]{43}$/;
const ID_PATTERN = /^[a-z0-9]{12}$/;
const MAX_NAME = 80;

/** What the dashboard lists (no secret, no hash). */
export interface ReadTokenInfo {
  id: string;
  name: string;
  scope: ReadTokenScope;
  createdAt: number;
  expiresAt: number;
  revokedAt?: number;
}

type TokenRecord =
  | { op: "mint"; id: string; name: string; scope: ReadTokenScope; hash: string; createdAt: number; expiresAt: number }
  | { op: "revoke"; id: string; at: number };

/** Why a mint was refused. */
export class ReadTokenError extends Error {}

/** Minted and revoked read tokens, kept in step with the store. */
export class ReadTokens {
  #store: StreamStore;
  #now: () => number;
  /** By id. */
  #tokens = new Map<string, ReadTokenInfo & { hash: string }>();
  /** Token hash → id. */
  #byHash = new Map<string, string>();

  constructor(store: StreamStore, options: { now?: () => number } = {}) {
    this.#store = store;
    this.#now = options.now ?? Date.now;
  }

  /** Loads every token and keeps following until `signal` aborts; resolves once the set is complete. */
  async start(signal: AbortSignal): Promise<void> {
    await followSidecar(this.#store, READ_TOKENS_STREAM, {
      config: { retentionAgeSecs: RETENTION_SECS, deleteOnEmptyMinAgeSecs: 0 },
      signal,
      onRecord: (record) => {
        try {
          this.#apply(JSON.parse(new TextDecoder().decode(record.body)));
        } catch { /* not ours: ignored */ }
      },
      what: "read tokens",
    });
  }

  /**
   * Mints a token; returns it (the only time it is seen) and its info.
   * `days` is its lifetime, 1 to {@link MAX_TOKEN_DAYS}.
   */
  async mint(
    options: { name: string; scope: ReadTokenScope; days: number },
  ): Promise<{ token: string; info: ReadTokenInfo }> {
    const name = options.name.trim();
    // deno-lint-ignore no-control-regex -- control characters are exactly what is refused
    if (!name || name.length > MAX_NAME || /[\u0000-\u001f\u007f]/.test(name)) {
      throw new ReadTokenError(`a token needs a name of 1 to ${MAX_NAME} printable characters`);
    }
    if (!isReadTokenScope(options.scope)) throw new ReadTokenError("scope is read, delete or ops");
    if (!Number.isInteger(options.days) || options.days < 1 || options.days > MAX_TOKEN_DAYS) {
      throw new ReadTokenError(`a token lives 1 to ${MAX_TOKEN_DAYS} days`);
    }
    const token = READ_TOKEN_PREFIX + base64url(crypto.getRandomValues(new Uint8Array(32)));
    const createdAt = this.#now();
    const record: TokenRecord = {
      op: "mint",
      id: randomId(),
      name,
      scope: options.scope,
      hash: await sha256(token),
      createdAt,
      expiresAt: createdAt + options.days * 86_400_000,
    };
    await this.#append(record);
    this.#apply(record);
    return { token, info: this.#public(record.id)! };
  }

  /** Revokes a token here at once and, through the store, everywhere. False when there is no such token. */
  async revoke(id: string): Promise<boolean> {
    const token = this.#tokens.get(id);
    if (!token) return false;
    if (token.revokedAt !== undefined) return true;
    const record: TokenRecord = { op: "revoke", id, at: this.#now() };
    this.#apply(record);
    await this.#append(record);
    return true;
  }

  /** The token a bearer value is, when it is a live one. */
  async check(candidate: string): Promise<ReadTokenInfo | undefined> {
    if (!TOKEN_PATTERN.test(candidate)) return undefined;
    const id = this.#byHash.get(await sha256(candidate));
    const token = id === undefined ? undefined : this.#tokens.get(id);
    if (!token || token.revokedAt !== undefined || token.expiresAt <= this.#now()) return undefined;
    return this.#public(token.id);
  }

  /** Every token not yet expired (revoked ones included), newest first. */
  list(): ReadTokenInfo[] {
    const now = this.#now();
    return [...this.#tokens.keys()].map((id) => this.#public(id)!).filter((t) => t.expiresAt > now)
      .sort((a, b) => b.createdAt - a.createdAt);
  }

  #apply(record: TokenRecord): void {
    // A scope this version does not know grants nothing (the token is left out), rather than some default.
    if (record?.op === "mint" && ID_PATTERN.test(record.id) && typeof record.hash === "string") {
      if (this.#tokens.has(record.id) || !isReadTokenScope(record.scope)) return;
      const { id, name, scope, hash, createdAt, expiresAt } = record;
      this.#tokens.set(id, { id, name, scope, hash, createdAt, expiresAt });
      this.#byHash.set(hash, id);
    } else if (record?.op === "revoke") {
      const token = this.#tokens.get(record.id);
      if (token && token.revokedAt === undefined) token.revokedAt = record.at;
    }
  }

  #public(id: string): ReadTokenInfo | undefined {
    const token = this.#tokens.get(id);
    if (!token) return undefined;
    const { hash: _hash, ...info } = token;
    return { ...info };
  }

  async #append(record: TokenRecord): Promise<void> {
    const body = new TextEncoder().encode(JSON.stringify(record));
    await this.#store.append(READ_TOKENS_STREAM, [{ body, timestamp: this.#now() }]);
  }
}

/** Hex SHA-256 of a token: what is stored and looked up. */
export async function sha256(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

function randomId(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  return Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => alphabet[b % 36]).join("");
}
