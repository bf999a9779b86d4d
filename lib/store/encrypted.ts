/**
 * Encryption at rest (`REPLAYA_ENCRYPTION_KEY`): a store wrapper that seals
 * every non-empty record body with AES-256-GCM (WebCrypto) under a data key
 * of its own stream, with a random 96-bit IV per record. The data key is
 * wrapped (AES-KW) by the master key and kept in a key stream of its own,
 * `keys/<stream>`; deleting a stream deletes its key stream first, so what
 * any backend still holds of the records afterwards (S2's deletion is
 * eventual, SQLite's free pages) can no longer be decrypted (crypto-shredding).
 *
 * What stays readable: stream names, seq numbers, timestamps, fences and
 * headers (the kind, writer, batch, counts and friction headers the list
 * reads without touching bodies), except the headers named in `sealHeaders`
 * (the app passes the identified user id and the pages visited), whose values
 * are sealed like bodies (`~` + base64); body lengths give away sizes.
 * Empty bodies (heartbeats) stay empty. Records without the envelope (written
 * before encryption was turned on) are read as they are. Names that end in a
 * hash of a user id, a URL or an asset's bytes are stored keyed instead
 * (`keyed_names.ts`), so the storage cannot be searched for known ones.
 *
 * Envelope: `"\0RE2"` · 8-byte key id · 12-byte IV · ciphertext and 16-byte
 * tag (40 bytes more per record). The AAD is the first 12 bytes, the stored
 * stream name (below this wrapper: the keyed one), a NUL and `body` or
 * `header:<name>`, so a sealed body or header value moved to another stream,
 * or a header value moved to another header or to the body, fails to open.
 * Within a stream, records are not bound to their seq numbers (assigned only
 * after sealing): they can still be dropped or repeated there. A record
 * under another key (its key was deleted, or replaced), moved, altered, or
 * read with a wrong master key fails with {@link EncryptionError}, never as
 * garbage.
 *
 * Before: `"\0RE1"` envelopes, whose AAD was the first 12 bytes alone, still
 * open (never written any more), and stay movable as they were. Streams
 * stored under plain-hash names before keyed names stay there, no longer
 * addressed: the user index is filled again by its backfill, the asset cache
 * fetches a URL again the next time a recording uses it (same bytes, same
 * hash: older sessions' maps find that copy), and retention removes the old
 * streams (their key streams after twice the retention). Deleting a keyed
 * stream deletes its plain-named predecessor too.
 *
 * A key stream keeps its key for twice the data's retention, and the key is
 * written again once its copy is older than half of it while the stream is
 * still written, so the key always outlives the data and then goes too. Data
 * keys are cached in memory (per process): another process that still holds
 * a deleted stream's key could write new records under it (unreadable after).
 *
 * @module
 */

import { AlreadyExistsError, NotFoundError, SeqMismatchError } from "./errors.ts";
import type { AppendItem, ListOptions, StoredRecord, StreamStore } from "./types.ts";
import { isFence } from "./types.ts";
import { keyedNames } from "./keyed_names.ts";

/** Where data keys live: one key stream per data stream (hidden from listings). */
export const KEY_PREFIX = "keys/";
/** A wrapped test key, checked at start, so a wrong master key fails before anything is read. */
const CHECK_STREAM = `${KEY_PREFIX}.check`;

const MAGIC = new Uint8Array([0, 0x52, 0x45, 0x32]); // "\0RE2": never how JSON or gzip starts
/** The first envelope, whose AAD was its head alone: still opened, never written. */
const MAGIC_V1 = new Uint8Array([0, 0x52, 0x45, 0x31]);
const KID_BYTES = 8;
const IV_BYTES = 12;
const HEAD_BYTES = MAGIC.length + KID_BYTES;
/** Bytes the envelope adds to each non-empty body. */
export const ENVELOPE_OVERHEAD = HEAD_BYTES + IV_BYTES + 16;
const MAX_CACHED_KEYS = 10_000;

/** A record that cannot be decrypted (its key is gone, or the master key is not the one it was wrapped with). */
export class EncryptionError extends Error {
  override name = "EncryptionError";
}

/** Options for {@link withEncryption}. */
export interface EncryptionOptions {
  /** 32 bytes (REPLAYA_ENCRYPTION_KEY). */
  masterKey: Uint8Array;
  /** The data's retention: key streams keep keys twice as long (undefined: the store's default). */
  retentionAgeSecs?: number;
  /** Header names whose values are sealed too (they hold what bodies would). */
  sealHeaders?: string[];
  now?: () => number;
}

interface DataKey {
  kid: Uint8Array;
  key: CryptoKey;
  /** The wrapped key record's body, and when its latest copy was written. */
  record: Uint8Array;
  writtenAt: number;
}

const utf8 = new TextEncoder();

/**
 * Wraps `store` so bodies are encrypted on append and decrypted on read and
 * follow. Checks the master key against the store's check record first
 * (written on the first start): throws {@link EncryptionError} when it differs.
 */
export async function withEncryption(store: StreamStore, options: EncryptionOptions): Promise<StreamStore> {
  const now = options.now ?? Date.now;
  const master = await crypto.subtle.importKey("raw", options.masterKey as BufferSource, "AES-KW", false, [
    "wrapKey",
    "unwrapKey",
  ]);
  const retentionSecs = options.retentionAgeSecs;
  const keyConfig = retentionSecs ? { retentionAgeSecs: retentionSecs * 2 } : undefined;
  const keys = new Map<string, Promise<DataKey | undefined>>();
  const sealHeaders = new Set(options.sealHeaders ?? []);

  const unwrap = async (stream: string, body: Uint8Array, writtenAt: number): Promise<DataKey> => {
    const parsed = JSON.parse(new TextDecoder().decode(body)) as { kid: string; wrapped: string };
    try {
      const key = await crypto.subtle.unwrapKey("raw", fromBase64(parsed.wrapped), master, "AES-KW", "AES-GCM", false, [
        "encrypt",
        "decrypt",
      ]);
      return { kid: fromHex(parsed.kid), key, record: body, writtenAt };
    } catch {
      throw new EncryptionError(
        `the data key of ${stream} does not unwrap: REPLAYA_ENCRYPTION_KEY is not the master key it was wrapped with`,
      );
    }
  };

  /** The stream's latest key record, unwrapped; undefined when it has none. */
  const loadKey = async (stream: string): Promise<DataKey | undefined> => {
    try {
      const { records } = await store.read(KEY_PREFIX + stream, { from: { tailOffset: 1 } });
      const last = records.at(-1);
      return last ? await unwrap(stream, last.body, last.timestamp) : undefined;
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  };

  /** A new key for the stream, written unless another writer got there first (then theirs). */
  const createKey = async (stream: string): Promise<DataKey> => {
    const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, true, ["encrypt", "decrypt"]);
    const kid = crypto.getRandomValues(new Uint8Array(KID_BYTES));
    const wrapped = new Uint8Array(await crypto.subtle.wrapKey("raw", key, master, "AES-KW"));
    const record = utf8.encode(JSON.stringify({ v: 1, kid: toHex(kid), wrapped: toBase64(wrapped) }));
    await store.createStream(KEY_PREFIX + stream, keyConfig).catch((error) => {
      if (!(error instanceof AlreadyExistsError)) throw error;
    });
    const writtenAt = now();
    try {
      await store.append(KEY_PREFIX + stream, [{ body: record, timestamp: writtenAt }], { matchSeqNum: 0 });
    } catch (error) {
      if (!(error instanceof SeqMismatchError)) throw error;
      const theirs = await loadKey(stream);
      if (theirs) return theirs;
      throw error;
    }
    return { kid, key: await unwrap(stream, record, writtenAt).then((k) => k.key), record, writtenAt };
  };

  const cached = (stream: string): Promise<DataKey | undefined> => {
    let pending = keys.get(stream);
    if (pending) {
      keys.delete(stream); // re-insert: Map order is least-recently-used first
    } else {
      pending = loadKey(stream);
      pending.catch(() => keys.delete(stream));
    }
    keys.set(stream, pending);
    if (keys.size > MAX_CACHED_KEYS) keys.delete(keys.keys().next().value!);
    return pending;
  };

  const keyForWrite = async (stream: string): Promise<{ key: DataKey; created: boolean }> => {
    let key = await cached(stream);
    if (key) {
      // Still written: the key's copy is renewed before it could expire ahead of the data.
      if (retentionSecs && now() - key.writtenAt > (retentionSecs * 1000) / 2) {
        const writtenAt = now();
        await store.append(KEY_PREFIX + stream, [{ body: key.record, timestamp: writtenAt }]);
        key.writtenAt = writtenAt;
      }
      return { key, created: false };
    }
    const pending = createKey(stream);
    keys.set(stream, pending);
    pending.catch(() => keys.delete(stream));
    key = await pending;
    return { key, created: true };
  };

  /** Seals `body` (a record's body or a header's value, said by `field`) for `stream`, its stored name. */
  const seal = async (key: DataKey, body: Uint8Array, stream: string, field: string): Promise<Uint8Array> => {
    if (body.length === 0) return body;
    const out = new Uint8Array(ENVELOPE_OVERHEAD + body.length);
    out.set(MAGIC, 0);
    out.set(key.kid, MAGIC.length);
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
    out.set(iv, HEAD_BYTES);
    const sealed = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: aadOf(out, stream, field) },
      key.key,
      body as BufferSource,
    );
    out.set(new Uint8Array(sealed), HEAD_BYTES + IV_BYTES);
    return out;
  };

  const sealRecord = async (key: DataKey, stream: string, item: AppendItem): Promise<AppendItem> => {
    if (isFence(item)) return item;
    const headers = item.headers && sealHeaders.size
      ? await Promise.all(
        item.headers.map(async ([name, value]): Promise<[string, string]> =>
          sealHeaders.has(name)
            ? [name, `~${toBase64(await seal(key, utf8.encode(value), stream, headerField(name)))}`]
            : [name, value]
        ),
      )
      : item.headers;
    return { ...item, headers, body: await seal(key, item.body, stream, BODY_FIELD) };
  };

  const open = async (stream: string, record: StoredRecord): Promise<StoredRecord> => {
    const sealed = sealHeaders.size ? record.headers.some(([name, v]) => sealHeaders.has(name) && v[0] === "~") : false;
    if (!isSealed(record.body) && !sealed) return record;
    const openValue = async (name: string, value: string) =>
      new TextDecoder().decode(await openBody(stream, record.seqNum, fromBase64(value.slice(1)), headerField(name)));
    const headers = sealed
      ? await Promise.all(
        record.headers.map(async ([name, value]): Promise<[string, string]> =>
          sealHeaders.has(name) && value[0] === "~" ? [name, await openValue(name, value)] : [name, value]
        ),
      )
      : record.headers;
    const body = await openBody(stream, record.seqNum, record.body as Uint8Array<ArrayBuffer>, BODY_FIELD);
    return { ...record, headers, body };
  };

  const openBody = async (
    stream: string,
    seqNum: number,
    body: Uint8Array<ArrayBuffer>,
    field: string,
  ): Promise<Uint8Array> => {
    if (!isSealed(body)) return body;
    const kid = body.subarray(MAGIC.length, HEAD_BYTES);
    const first = cached(stream);
    let key = await first;
    if (!key || !sameBytes(key.kid, kid)) {
      // Made by another process since this one looked (or replaced there): look again once. Records
      // opened together share that one look: only the first drops the entry the others awaited too.
      if (keys.get(stream) === first) keys.delete(stream);
      key = await cached(stream);
    }
    if (!key || !sameBytes(key.kid, kid)) {
      throw new EncryptionError(
        `record ${seqNum} of ${stream} is sealed under a data key that no longer exists`,
      );
    }
    try {
      const plain = await crypto.subtle.decrypt(
        {
          name: "AES-GCM",
          iv: body.subarray(HEAD_BYTES, HEAD_BYTES + IV_BYTES),
          additionalData: aadOf(body, stream, field),
        },
        key.key,
        body.subarray(HEAD_BYTES + IV_BYTES),
      );
      return new Uint8Array(plain);
    } catch {
      throw new EncryptionError(
        `record ${seqNum} of ${stream} fails authentication (altered or corrupted, or moved from another stream or field)`,
      );
    }
  };

  /** Deletes a stream's key, then the stream: if the data's deletion fails half-way, the rest is unreadable. */
  const shred = async (stream: string) => {
    keys.delete(stream);
    await store.deleteStream(KEY_PREFIX + stream);
    await store.deleteStream(stream);
    keys.delete(stream);
  };

  await checkMasterKey(store, master, now);
  // From here on every name is the stored one (keyed where the app's gives away a hash), key streams and AADs included.
  const names = await keyedNames(options.masterKey);

  return {
    get info() {
      return store.info;
    },
    createStream: async (name, config) => store.createStream(await names.stored(name), config),
    getStreamConfig: async (name) => store.getStreamConfig(await names.stored(name)),
    checkTail: async (name) => store.checkTail(await names.stored(name)),
    close: () => store.close(),
    async append(name, items, options) {
      const stream = await names.stored(name);
      const { key, created } = await keyForWrite(stream);
      const sealed: AppendItem[] = await Promise.all(
        items.map((item) => sealRecord(key, stream, item)),
      );
      try {
        return await store.append(stream, sealed, options);
      } catch (error) {
        // No such stream: the key made for it goes again.
        if (created && error instanceof NotFoundError) {
          keys.delete(stream);
          await store.deleteStream(KEY_PREFIX + stream).catch(() => {});
        }
        throw error;
      }
    },
    async read(name, options) {
      const stream = await names.stored(name);
      const result = await store.read(stream, options);
      return { ...result, records: await Promise.all(result.records.map((r) => open(stream, r))) };
    },
    async *follow(name, options) {
      const stream = await names.stored(name);
      for await (const record of store.follow(stream, options)) yield await open(stream, record);
    },
    async deleteStream(name) {
      const stream = await names.stored(name);
      await shred(stream);
      // The same thing under its plain name, from before keyed names: it goes too.
      if (stream !== name) await shred(name);
    },
    // Names as stored: keyed ones come back as they are (the `~` keeps them from being keyed again); a plain
    // one from before keyed names, passed back, names the same user or asset, under its keyed name.
    async listStreams(options: ListOptions = {}) {
      const page = await store.listStreams(options);
      return { ...page, names: page.names.filter((name) => !name.startsWith(KEY_PREFIX)) };
    },
  };
}

/** Unwraps the store's check key, or writes one on the first start with encryption. */
async function checkMasterKey(store: StreamStore, master: CryptoKey, now: () => number): Promise<void> {
  let last: StoredRecord | undefined;
  try {
    last = (await store.read(CHECK_STREAM, { from: { tailOffset: 1 } })).records.at(-1);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
  if (last) {
    try {
      await crypto.subtle.unwrapKey("raw", last.body as BufferSource, master, "AES-KW", "AES-GCM", false, ["encrypt"]);
      return;
    } catch {
      throw new EncryptionError(
        "REPLAYA_ENCRYPTION_KEY is not the master key this store was encrypted with (its check key does not unwrap)",
      );
    }
  }
  const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, true, ["encrypt"]);
  const wrapped = new Uint8Array(await crypto.subtle.wrapKey("raw", key, master, "AES-KW"));
  await store.createStream(CHECK_STREAM).catch((error) => {
    if (!(error instanceof AlreadyExistsError)) throw error;
  });
  await store.append(CHECK_STREAM, [{ body: wrapped, timestamp: now() }]);
}

/** Whether a body carries the envelope (either version). */
export function isSealed(body: Uint8Array): boolean {
  return body.length >= ENVELOPE_OVERHEAD && (startsWith(body, MAGIC) || startsWith(body, MAGIC_V1));
}

const BODY_FIELD = "body";
const headerField = (name: string) => `header:${name}`;

/**
 * The AAD of an envelope: its head, then (from `"\0RE2"` on) the stream it
 * is stored in and the field it is in. Stream names hold no NUL: the
 * separator keeps every (stream, field) pair distinct.
 */
function aadOf(envelope: Uint8Array, stream: string, field: string): Uint8Array<ArrayBuffer> {
  const head = envelope.slice(0, HEAD_BYTES);
  if (startsWith(envelope, MAGIC_V1)) return head;
  const context = utf8.encode(`${stream}\0${field}`);
  const aad = new Uint8Array(HEAD_BYTES + context.length);
  aad.set(head);
  aad.set(context, HEAD_BYTES);
  return aad;
}

function startsWith(bytes: Uint8Array, magic: Uint8Array): boolean {
  return magic.every((b, i) => bytes[i] === b);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
}

function toBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
