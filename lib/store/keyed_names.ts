/**
 * Stream names under encryption at rest (`encrypted.ts`). Three kinds of
 * names carry a plain SHA-256 of what they index: the user index
 * (`users/<32 hex of the user id's hash>`) and the asset cache's copies and
 * URL index (`assets/<hash of the bytes>`, `assets/by-url/<hash of the URL>`).
 * Whoever holds the storage could hash a list of e-mail addresses or URLs and
 * look for them. The encrypted store keeps them under an HMAC-SHA-256 of the
 * whole name instead, with a key derived from the master key (HKDF, its own
 * label), truncated to the length the name had: `users/~<32 hex>`,
 * `assets/~<64 hex>`, `assets/by-url/~<64 hex>`. The `~` marks a keyed name,
 * so one that comes back from a listing is used as it is (never keyed twice),
 * and sets it apart from the plain name it replaces. Session ids, days and
 * the other names are random or say nothing and stay as they are.
 *
 * The user index under keyed names starts empty, so its backfill
 * (`lib/sessions/user_backfill.ts`, whose progress stream says when it is
 * done) gets a progress stream of its own and runs once more: it fills the
 * keyed index from the day streams, as it once filled the plain one.
 *
 * @module
 */

/** Prefixes of names that end in a hash of what they index, and that hash's length in hex. */
const HASHED: ReadonlyArray<[prefix: string, hexLength: number]> = [
  ["users/", 32],
  ["assets/", 64],
  ["assets/by-url/", 64],
];
/** Marks a keyed name: never a hex digit, so never part of a plain hash. */
const KEYED = "~";
/** The user index backfill's progress (`BACKFILL_STREAM`): the keyed index is a new one, to be filled again. */
const RENAMED = new Map([["backfill/users", "backfill/~users"]]);
const HKDF_INFO = "replaya stream names v1";

/** Maps the names the app uses to the names stored (see the module doc). */
export interface KeyedNames {
  /** The name stored for `name`: keyed, or `name` itself. */
  stored(name: string): Promise<string>;
}

/** The name mapping of a master key (32 bytes). */
export async function keyedNames(masterKey: Uint8Array): Promise<KeyedNames> {
  const base = await crypto.subtle.importKey("raw", masterKey as BufferSource, "HKDF", false, ["deriveKey"]);
  const key = await crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(), info: new TextEncoder().encode(HKDF_INFO) },
    base,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign"],
  );
  return {
    async stored(name) {
      const renamed = RENAMED.get(name);
      if (renamed) return renamed;
      const hashed = HASHED.find(([prefix, length]) =>
        name.length === prefix.length + length && name.startsWith(prefix) && isHex(name.slice(prefix.length))
      );
      if (!hashed) return name;
      const [prefix, length] = hashed;
      // The whole name is signed, so the same hash under two prefixes gets two unrelated names.
      const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(name)));
      return prefix + KEYED + Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("").slice(0, length);
    },
  };
}

function isHex(text: string): boolean {
  return /^[0-9a-f]+$/.test(text);
}
