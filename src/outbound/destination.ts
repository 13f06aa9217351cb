/**
 * Where a delivery may go, decided just before connecting: the URL's host is
 * checked against the allow-list again (the list may have changed since the
 * URL was registered), a name is resolved, and every address it resolves to
 * must be allowed. The connection then goes to the address checked here and to
 * no other (see pinned-request.ts), so a DNS answer that changes between the
 * check and the connection (DNS rebinding) cannot send it elsewhere.
 */
import { lookup } from 'node:dns/promises';
import { formatAddress, parseIpAddress } from './addresses.js';
import { destinationRefusal, type OutboundAllowList, resolvedAddressIsAllowed } from './allow-list.js';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to all its addresses; tests pass their own, so no test depends on real DNS. */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: HostResolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));

export type Destination =
  | { allowed: true; url: URL; address: ResolvedAddress }
  /** `reason` is for the operator's log only: it names addresses and DNS errors. */
  | { allowed: false; reason: string };

export async function resolveDestination(list: OutboundAllowList, rawUrl: string, resolve: HostResolver): Promise<Destination> {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return { allowed: false, reason: 'not an absolute URL' };
  }
  const refusal = destinationRefusal(list, url.hostname);
  if (refusal) return { allowed: false, reason: `destination not allowed: ${refusal}` };

  const literal = parseIpAddress(url.hostname);
  if (literal) return { allowed: true, url, address: { address: formatAddress(literal), family: literal.family } };

  let addresses: ResolvedAddress[];
  try {
    addresses = await resolve(url.hostname);
  } catch (error) {
    const code = (error as { code?: unknown })?.code;
    return { allowed: false, reason: typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code) ? `dns error ${code}` : 'dns error' };
  }
  if (addresses.length === 0) return { allowed: false, reason: 'dns error: no address' };
  // Every address, not only the one used: a name half pointing inside is a name someone is playing with.
  const refused = addresses.filter((a) => {
    const parsed = parseIpAddress(a.address);
    return !parsed || !resolvedAddressIsAllowed(list, parsed);
  });
  if (refused.length) return { allowed: false, reason: `destination not allowed: ${url.hostname} resolves to ${refused.map((a) => a.address).join(', ')}, outside the outbound allow-list` };
  return { allowed: true, url, address: addresses[0]! };
}
