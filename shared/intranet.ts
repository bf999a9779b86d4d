/**
 * Which addresses a recording may point anyone at. A recording is written by
 * whoever holds a public project key, so its URLs are untrusted: the asset
 * cache must not fetch the server's own network (lib/assets/address.ts), and
 * the dashboard's first frame and replay must not make the viewer's browser
 * call theirs (a blind GET to `http://192.168.1.1/reboot`). This module
 * classifies IP addresses and host names and takes such URLs out of HTML
 * attributes and CSS.
 *
 * Pure and import-free: the server (`lib/`) and the player island both use
 * it, and neither may import the other's code (tests/layers_test.ts).
 *
 * @module
 */

/** IPv4 ranges that are not the public internet: [first octets as a number, prefix length]. */
const PRIVATE_V4: Array<[string, number]> = [
  ["0.0.0.0", 8], // "this network"
  ["10.0.0.0", 8], // private
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8], // loopback
  ["169.254.0.0", 16], // link-local (cloud metadata at 169.254.169.254)
  ["172.16.0.0", 12], // private
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // documentation
  ["192.88.99.0", 24], // 6to4 relay anycast
  ["192.168.0.0", 16], // private
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // documentation
  ["203.0.113.0", 24], // documentation
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, and broadcast
];

/** Parses a dotted IPv4 address to a 32-bit number, or undefined. */
export function parseIpv4(address: string): number | undefined {
  const parts = address.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

/** Parses an IPv6 address (with `::` and an embedded IPv4 tail) to its eight 16-bit groups, or undefined. */
export function parseIpv6(address: string): number[] | undefined {
  let ip = address.replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, "").toLowerCase();
  const v4Tail = ip.match(/(\d{1,3}(?:\.\d{1,3}){3})$/);
  if (v4Tail) {
    const v4 = parseIpv4(v4Tail[1]);
    if (v4 === undefined) return undefined;
    ip = ip.slice(0, -v4Tail[1].length) + `${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = ip.split("::");
  if (halves.length > 2) return undefined;
  const groups = (part: string) => (part === "" ? [] : part.split(":"));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (!all.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return undefined;
  return all.map((g) => parseInt(g, 16));
}

function v4InRange(ip: number, [base, bits]: [string, number]): boolean {
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return ((ip & mask) >>> 0) === ((parseIpv4(base)! & mask) >>> 0);
}

/**
 * Whether an IP address is anything but a public unicast address: loopback,
 * private, carrier-grade NAT, link-local, unique local (fc00::/7),
 * multicast, documentation and reserved ranges, and IPv6 forms that carry
 * such an IPv4 address (mapped, translated, compatible, NAT64, 6to4). Anything that is
 * not an address at all counts as private.
 *
 * @example
 * isPrivateAddress("169.254.169.254"); // true
 * isPrivateAddress("93.184.216.34"); // false
 */
export function isPrivateAddress(address: string): boolean {
  const v4 = parseIpv4(address);
  if (v4 !== undefined) return PRIVATE_V4.some((range) => v4InRange(v4, range));
  const g = parseIpv6(address);
  if (!g) return true;
  const embedded = (hi: number, lo: number) => isPrivateAddress(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
  const zeros = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeros(8)) return true; // ::
  if (zeros(7) && g[7] === 1) return true; // ::1
  if (zeros(5) && g[5] === 0xffff) return embedded(g[6], g[7]); // ::ffff:a.b.c.d (mapped)
  if (zeros(4) && g[4] === 0xffff && g[5] === 0) return embedded(g[6], g[7]); // ::ffff:0:a.b.c.d (translated, RFC 2765)
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) return true; // 64:ff9b:1::/48, local-use NAT64 (RFC 8215)
  if (zeros(6)) return true; // ::a.b.c.d (deprecated IPv4-compatible)
  if (g[0] === 0x64 && g[1] === 0xff9b) return embedded(g[6], g[7]); // NAT64
  if (g[0] === 0x2002) return embedded(g[1], g[2]); // 6to4
  if ((g[0] & 0xfe00) === 0xfc00) return true; // fc00::/7 unique local
  if ((g[0] & 0xffc0) === 0xfe80) return true; // fe80::/10 link-local
  if ((g[0] & 0xffc0) === 0xfec0) return true; // fec0::/10 site-local (deprecated)
  if ((g[0] & 0xff00) === 0xff00) return true; // multicast
  if (g[0] === 0x2001 && g[1] === 0x0db8) return true; // documentation
  if (g[0] === 0x0100 && g[1] === 0 && g[2] === 0 && g[3] === 0) return true; // 100::/64 discard
  if (g[0] === 0x2001 && g[1] < 0x0200) return true; // 2001::/23 IETF special purpose (Teredo, ORCHID…)
  return false;
}

/** How strict the checks below are. */
export interface IntranetOptions {
  /**
   * Loopback hosts pass: for a dashboard that is itself open on loopback (a
   * local install, where the recorded site usually is on localhost too).
   */
  allowLoopback?: boolean;
}

/** Names that only ever resolve inside a network: `localhost` (RFC 6761), mDNS (RFC 6762), `internal`, RFC 8375. */
const LOCAL_SUFFIXES = ["localhost", "local", "internal", "home.arpa"];

const bare = (host: string) => host.replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "").toLowerCase();

/** Whether a host is `localhost` (or a name under it), 127.0.0.0/8, `::1` or `::ffff:127.x.y.z`. */
export function isLoopbackHost(hostname: string): boolean {
  const host = bare(hostname);
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  const v4 = parseIpv4(host);
  if (v4 !== undefined) return v4 >>> 24 === 127;
  const g = host.includes(":") ? parseIpv6(host) : undefined;
  if (!g || !g.slice(0, 5).every((x) => x === 0)) return false;
  return (g[5] === 0 && g[6] === 0 && g[7] === 1) || (g[5] === 0xffff && g[6] >> 8 === 127);
}

/**
 * Whether a host (as a URL's `hostname` gives it) is on someone's own
 * network: an IP literal that is not public ({@link isPrivateAddress}), a
 * single-label name (`router`, `intranet`) or a name under a local-only
 * suffix (`printer.local`, `a.localhost`). Other names are not resolved: a
 * public name pointing at a private address is not caught here. An empty
 * host (`data:`, `about:`) is not a network address.
 *
 * @example
 * isIntranetHost("10.0.0.1"); // true
 * isIntranetHost("router"); // true
 * isIntranetHost("shop.example"); // false
 */
export function isIntranetHost(hostname: string, options: IntranetOptions = {}): boolean {
  const host = bare(hostname);
  if (host === "") return false;
  if (options.allowLoopback && isLoopbackHost(host)) return false;
  if (parseIpv4(host) !== undefined || host.includes(":")) return isPrivateAddress(host);
  return !host.includes(".") || LOCAL_SUFFIXES.some((suffix) => host === suffix || host.endsWith(`.${suffix}`));
}

// The recording's own relative URLs resolve against the dashboard (the replay's and the first frame's base), which
// is not the intranet. Both schemes: "http:10.0.0.1" has a host only when the base's scheme is another one.
const BASES = ["https://replaya.invalid/", "http://replaya.invalid/"];

/**
 * Whether a URL, as a browser would resolve it in the replay (whitespace
 * trimmed, `\` as `/`, `http://2130706433/` and `http://0x7f.1/` as
 * 127.0.0.1, `[::ffff:127.0.0.1]`), points at an {@link isIntranetHost} host.
 */
export function isIntranetUrl(url: string, options: IntranetOptions = {}): boolean {
  if (!/[:/\\]/.test(url)) return false; // no scheme and no slashes: a path on the base's host
  return BASES.some((base) => {
    try {
      return isIntranetHost(new URL(url, base).hostname, options);
    } catch {
      return false; // not a URL: the browser fetches nothing either
    }
  });
}

/**
 * Attributes whose whole value is a URL that is loaded, followed, or animated
 * to (SVG `<set to>`); rrweb loads `rr_dataURL` into a canvas or image.
 */
const URL_ATTRIBUTES = new Set([
  "src",
  "rr_dataurl",
  "href",
  "xlink:href",
  "poster",
  "background",
  "data",
  "action",
  "formaction",
  "to",
  "from",
  "by",
]);

/**
 * An attribute's value without URLs on the intranet: the value unchanged, a
 * `srcset` or CSS with those URLs taken out, or undefined when the attribute
 * must go. `name` is lower-case.
 *
 * @example
 * attributeWithoutIntranetUrls("src", "http://127.0.0.1/x.png"); // undefined
 * attributeWithoutIntranetUrls("srcset", "http://10.0.0.1/a.png 1x, https://cdn.example/b.png 2x");
 * // "https://cdn.example/b.png 2x"
 */
export function attributeWithoutIntranetUrls(
  name: string,
  value: string,
  options: IntranetOptions = {},
): string | undefined {
  if (URL_ATTRIBUTES.has(name)) return isIntranetUrl(value, options) ? undefined : value;
  if (name === "style" || name === "_csstext") return cssWithoutIntranetUrls(value, options);
  if (name === "srcset" || name === "imagesrcset") {
    const candidates = srcsetCandidates(value);
    const kept = candidates.filter((c) => !isIntranetUrl(c.url, options));
    if (kept.length === candidates.length) return value;
    return kept.length ? kept.map((c) => c.text).join(", ") : undefined;
  }
  // SVG <animate values="a;b">: a list of values the animated attribute (an href, say) takes in turn.
  if (name === "values") return value.split(";").some((v) => isIntranetUrl(v, options)) ? undefined : value;
  // SVG presentation attributes are CSS values: fill="url(…)", filter, mask, clip-path, cursor.
  if (/url\(|\\/i.test(value)) return cssWithoutIntranetUrls(value, options);
  return value;
}

/**
 * A `srcset`'s candidates (HTML's candidate-string syntax): a URL is a run of
 * non-space characters, trailing commas end a candidate, and descriptors
 * (`2x`, `640w`) run to the next comma outside parentheses.
 */
export function srcsetCandidates(srcset: string): Array<{ url: string; text: string }> {
  const out: Array<{ url: string; text: string }> = [];
  let i = 0;
  while (i < srcset.length) {
    while (i < srcset.length && /[\s,]/.test(srcset[i])) i++;
    const start = i;
    while (i < srcset.length && !/\s/.test(srcset[i])) i++;
    let url = srcset.slice(start, i);
    if (url.endsWith(",")) url = url.replace(/,+$/, "");
    else {
      let depth = 0;
      while (i < srcset.length && (srcset[i] !== "," || depth > 0)) {
        if (srcset[i] === "(") depth++;
        if (srcset[i] === ")") depth--;
        i++;
      }
    }
    if (url) out.push({ url, text: srcset.slice(start, i).replace(/[\s,]+$/, "") });
  }
  return out;
}

// CSS where URLs live, scanned left to right as CSS's tokenizer does, so a quote inside a comment or a comment
// inside a string cannot hide one: comments, strings (to their quote, a newline or the end; escaped characters
// included) and the `url(` function, whose name may be upper-case or escaped (`u\72l(`, `\75 rl(`). Each
// alternative is linear: nothing here backtracks over a long input.
const COMMENT = String.raw`\/\*[^]*?(?:\*\/|$)`;
const string = (quote: string) => String.raw`${quote}(?:\\[^]|\\$|[^${quote}\\\n\r\f])*(?:${quote}|$|(?=[\n\r\f]))`;
const letter = (char: string, hex: string) => String.raw`(?:${char}|\\0{0,4}${hex}[ \t\n\r\f]?|\\${char})`;
const URL_NAME = letter("u", "[57]5") + letter("r", "[57]2") + letter("l", "[46]c");
const URL_FUNCTION = String.raw`(?<![\w-])${URL_NAME}\([ \t\n\r\f]*`;
const CSS_TOKENS = new RegExp([COMMENT, string('"'), string("'"), URL_FUNCTION].join("|"), "gi");
/** An unquoted `url(…)`'s content, to its `)` (escaped characters included) or the end. */
const UNQUOTED_URL = /(?:\\[^]|\\$|[^)\\])*\)?/y;

/**
 * CSS with every URL on the intranet emptied: `url(http://10.0.0.1/a.png)`
 * becomes `url()` and a string that is one (`@import "…"`, `image-set("…")`,
 * `url("…")`) becomes `""`, both of which load nothing. CSS escapes are
 * decoded before the check, as the browser would.
 *
 * @example
 * cssWithoutIntranetUrls("a{background:url(http://192.168.1.1/x)}"); // "a{background:url()}"
 */
export function cssWithoutIntranetUrls(css: string, options: IntranetOptions = {}): string {
  const tokens = new RegExp(CSS_TOKENS);
  let out = "";
  let copied = 0;
  for (let match = tokens.exec(css); match; match = tokens.exec(css)) {
    const token = match[0];
    const quote = token[0];
    if (token.startsWith("/*")) continue;
    if (quote === '"' || quote === "'") {
      const body = token.slice(1, token.length > 1 && token.endsWith(quote) ? -1 : undefined);
      if (isIntranetUrl(unescapeCss(body), options)) {
        out += css.slice(copied, match.index) + quote + quote;
        copied = tokens.lastIndex;
      }
    } else if (css[tokens.lastIndex] !== '"' && css[tokens.lastIndex] !== "'") {
      // An unquoted url(…); a quoted one is a string, the next token.
      UNQUOTED_URL.lastIndex = tokens.lastIndex;
      const content = UNQUOTED_URL.exec(css)![0];
      tokens.lastIndex += content.length;
      if (isIntranetUrl(unescapeCss(content.replace(/\)$/, "")), options)) {
        out += css.slice(copied, match.index) + "url()";
        copied = tokens.lastIndex;
      }
    }
  }
  return copied === 0 ? css : out + css.slice(copied);
}

/** CSS escapes decoded: `\31 27` is "127", `\/` is "/", an escaped newline is nothing. */
function unescapeCss(text: string): string {
  if (!text.includes("\\")) return text;
  return text.replace(/\\(?:([0-9a-fA-F]{1,6})(?:\r\n|[ \t\n\r\f])?|(\r\n|[^]))/g, (_, hex, char) => {
    if (hex === undefined) return /^[\n\r\f]/.test(char) ? "" : char;
    const code = parseInt(hex, 16);
    return code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff) ? "\ufffd" : String.fromCodePoint(code);
  });
}
