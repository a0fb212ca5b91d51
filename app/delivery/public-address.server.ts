import dns from "node:dns";
import http from "node:http";
import https from "node:https";
import net from "node:net";

/**
 * Webhooks and tenants' buckets are addresses a tenant's editor types in,
 * which the worker then calls and whose answers it logs: pointed at the
 * worker's own network (a metadata service, a database port), they would
 * reach and probe it. So deliveries connect to public addresses only, unless
 * EXPORTAL_WEBHOOK_ALLOW_PRIVATE=true (a receiver on this machine, tests).
 */
export function privateAddressesAllowed(): boolean {
  return /^(1|true|yes)$/i.test(process.env.EXPORTAL_WEBHOOK_ALLOW_PRIVATE ?? "");
}

const PRIVATE = new net.BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16], ["172.16.0.0", 12],
  ["192.0.0.0", 24], ["192.168.0.0", 16], ["198.18.0.0", 15], ["224.0.0.0", 4], ["240.0.0.0", 4],
] as const) PRIVATE.addSubnet(network, prefix, "ipv4");
// Loopback, unspecified, unique-local, link-local, multicast. (IPv4-mapped IPv6, ::ffff:a.b.c.d, is checked
// against the IPv4 rules by BlockList itself.)
for (const [network, prefix] of [["::", 127], ["fc00::", 7], ["fe80::", 10], ["ff00::", 8]] as const) {
  PRIVATE.addSubnet(network, prefix, "ipv6");
}

export function isPrivateAddress(address: string): boolean {
  const family = net.isIP(address);
  return family !== 0 && PRIVATE.check(address, family === 4 ? "ipv4" : "ipv6");
}

/** The error a refused address gives: named, so the delivery log says why, and final (no retry helps). */
export class PrivateAddressError extends Error {
  readonly code = "EPRIVATEADDRESS";
  constructor(host: string, address: string) {
    super(
      `${host} is ${host === address ? "" : `at ${address}, `}a private address; deliveries go to public addresses only ` +
        "(an administrator can allow private ones with EXPORTAL_WEBHOOK_ALLOW_PRIVATE=true)",
    );
  }
}

/** Throws unless `host` (an IP literal, which connects without a lookup) may be called. */
export function checkLiteralHost(host: string): void {
  const bare = host.replace(/^\[|\]$/g, "");
  if (isPrivateAddress(bare) && !privateAddressesAllowed()) throw new PrivateAddressError(host, bare);
}

/**
 * dns.lookup that refuses private addresses. Connections made with it are
 * checked on the address they actually use, so a name that resolves to a
 * public address when checked and a private one when called cannot slip by.
 */
const publicLookup: net.LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, "", 0);
    const refused = privateAddressesAllowed() ? undefined : addresses.find((a) => isPrivateAddress(a.address));
    if (refused) return callback(new PrivateAddressError(hostname, refused.address), "", 0);
    if (options.all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, addresses);
    callback(null, addresses[0].address, addresses[0].family);
  });
};

/** HTTP agents that connect to public addresses only (a client that is destroyed destroys its agents: one pair each). */
export function publicAgents() {
  return { httpAgent: new http.Agent({ lookup: publicLookup, keepAlive: true }), httpsAgent: new https.Agent({ lookup: publicLookup, keepAlive: true }) };
}
