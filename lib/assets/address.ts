/**
 * Which addresses the asset cache may fetch from. A recording is written by
 * whoever runs the recorder, so every URL in it is untrusted: without this a
 * recording could make the server fetch its own loopback services, the
 * private network or the cloud metadata endpoint (SSRF). Every address a
 * name resolves to is checked, not just the first.
 *
 * @module
 */

// Which addresses are not public is shared with the dashboard's first frame and player.
import { isPrivateAddress, parseIpv4, parseIpv6 } from "../../shared/intranet.ts";

export { isPrivateAddress, parseIpv4, parseIpv6 };

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
