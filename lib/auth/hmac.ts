/**
 * HMAC-SHA256 signing with WebCrypto, shared by append tokens and dashboard
 * cookies.
 *
 * @module
 */

import { base64url } from "../bytes.ts";

const utf8 = new TextEncoder();

/** A signer bound to one secret. */
export class Hmac {
  #key: Promise<CryptoKey>;

  constructor(secret: string) {
    this.#key = crypto.subtle.importKey("raw", utf8.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]);
  }

  /** The base64url signature of `message`. */
  async sign(message: string): Promise<string> {
    return base64url(new Uint8Array(await crypto.subtle.sign("HMAC", await this.#key, utf8.encode(message))));
  }

  /** Constant-time check of a signature (WebCrypto's verify). */
  async verify(message: string, signature: string): Promise<boolean> {
    let bytes: Uint8Array;
    try {
      bytes = Uint8Array.from(atob(signature.replaceAll("-", "+").replaceAll("_", "/")), (c) => c.charCodeAt(0));
    } catch {
      return false;
    }
    return crypto.subtle.verify("HMAC", await this.#key, bytes as BufferSource, utf8.encode(message));
  }
}
