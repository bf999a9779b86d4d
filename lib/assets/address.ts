/**
 * Which addresses the asset cache may fetch from. A recording is written by
 * whoever runs the recorder, so every URL in it is untrusted: without this a
 * recording could make the server fetch its own loopback services, the
 * private network or the cloud metadata endpoint (SSRF). Every address a
 * name resolves to is checked, not just the first.
 *
 * @module
 */

/** Resolves a host name to its IPv4 and IPv6 addresses (injected in tests). */
export type Resolver = (hostname: string) => Promise<string[]>;

/**
 * Deno.resolveDns for A and AAAA. A name with neither (NXDOMAIN, or only one
 * family) gives what the other family has; both failing is an empty list.
 */
export const resolveDns: Resolver = async (hostname) => {
  const [v4, v6] = await Promise.allSettled([Deno.resolveDns(hostname, "A"), Deno.resolveDns(hostname, "AAAA")]);
  return [...(v4.status === "fulfilled" ? v4.value : []), ...(v6.status === "fulfilled" ? v6.value : [])];
};

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
 * such an IPv4 address (mapped, compatible, NAT64, 6to4). Anything that is
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
  if (zeros(5) && g[5] === 0xffff) return embedded(g[6], g[7]); // ::ffff:a.b.c.d
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

/** Thrown when a URL's host is, or resolves to, an address the cache may not reach. */
export class AddressRefusedError extends Error {
  override name = "AddressRefusedError";
  constructor(readonly reason: "private_address" | "unresolvable", message: string) {
    super(message);
  }
}

/**
 * The addresses of `hostname` (a name or an IP literal), all of them checked:
 * names under `localhost` count as loopback without asking DNS (the system
 * resolver answers them from its hosts file), and a name that resolves to
 * nothing is refused. Throws {@link AddressRefusedError}.
 */
export async function checkedAddresses(
  hostname: string,
  options: { allowPrivate: boolean; resolve: Resolver; isPublic?: (address: string) => boolean },
): Promise<string[]> {
  const host = hostname.replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "").toLowerCase();
  const literal = parseIpv4(host) !== undefined || (host.includes(":") && parseIpv6(host) !== undefined);
  const addresses = literal
    ? [host]
    : host === "localhost" || host.endsWith(".localhost")
    ? ["127.0.0.1", "::1"]
    : await options.resolve(host).catch(() => []);
  if (addresses.length === 0) throw new AddressRefusedError("unresolvable", `${host} does not resolve`);
  if (!options.allowPrivate) {
    const isPublic = options.isPublic ?? ((address: string) => !isPrivateAddress(address));
    const refused = addresses.find((address) => !isPublic(address));
    if (refused) {
      throw new AddressRefusedError("private_address", `${host} is (or resolves to) ${refused}, a non-public address`);
    }
  }
  return addresses;
}
