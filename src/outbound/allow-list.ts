/**
 * The operator's outbound allow-list (`WARTA_OUTBOUND_ALLOW`): the only places
 * Warta sends anything to (SET receivers, back-channel logout URIs). Names say
 * which services; networks say which addresses may be reached, and are the
 * only way into private, loopback or link-local ranges.
 */
import { formatNetwork, type IpAddress, type IpNetwork, isPublicAddress, networkContains, parseIpAddress, parseIpNetwork } from './addresses.js';

export interface OutboundAllowList {
  /** Exact host names, lower case, no trailing dot. */
  names: string[];
  /** From `*.example.gov`: `.example.gov`, matching any name below it (not example.gov itself). */
  nameSuffixes: string[];
  networks: IpNetwork[];
  /** The list as the operator reads it back, normalised: `localhost, *.example.gov, 10.20.0.0/16`. */
  entries: string[];
}

/** What an unset WARTA_OUTBOUND_ALLOW means outside production: the local machine, so the dev set-up and the tests deliver. */
export const DEVELOPMENT_OUTBOUND_ALLOW = 'localhost,127.0.0.0/8,::1';

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

function isHostName(name: string): boolean {
  return name.length <= 253 && name.split('.').every((label) => LABEL.test(label)) && !/^[\d.]+$/.test(name);
}

/** A list entry that is not a host name, a `*.` wildcard or a network; the message says which and why. */
export class AllowListEntryError extends Error {}

/**
 * Reads the comma-separated list; `none` is the empty list. Throws
 * AllowListEntryError on the first bad entry: a typo must stop start-up, not
 * silently allow less (or more) than the operator meant.
 */
export function parseOutboundAllowList(raw: string): OutboundAllowList {
  const list: OutboundAllowList = { names: [], nameSuffixes: [], networks: [], entries: [] };
  const items = raw.split(',').map((item) => item.trim()).filter(Boolean);
  if (items.length === 1 && items[0]!.toLowerCase() === 'none') return list;
  for (const item of items) {
    const entry = item.toLowerCase().replace(/\.$/, '');
    if (/^[\d.]+(\/.*)?$/.test(entry) || entry.includes(':')) {
      const network = parseIpNetwork(entry.replace(/^\[(.*)\]/, '$1'));
      if (!network) throw new AllowListEntryError(`"${item}" is not an IPv4 or IPv6 address or network (address/prefix, with no host bits set, e.g. 10.20.0.0/16 or fd00:1::/64)`);
      list.networks.push(network);
      list.entries.push(formatNetwork(network));
    } else if (entry.startsWith('*.')) {
      const suffix = entry.slice(2);
      // `*.gov` or `*.internal` would allow a whole top-level domain: almost certainly a mistake.
      if (!isHostName(suffix) || !suffix.includes('.')) throw new AllowListEntryError(`"${item}" is not a wildcard of the form *.example.gov (at least two labels after "*.")`);
      list.nameSuffixes.push(`.${suffix}`);
      list.entries.push(entry);
    } else {
      if (!isHostName(entry)) throw new AllowListEntryError(`"${item}" is not a host name (letters, digits and hyphens in dot-separated labels; internationalised names in their xn-- form), a *.wildcard or a network`);
      list.names.push(entry);
      list.entries.push(entry);
    }
  }
  return list;
}

/** Whether `hostname` (as a URL gives it: lower case, IDN in xn-- form) is allowed by name. */
export function nameIsAllowed(list: OutboundAllowList, hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return list.names.includes(name) || list.nameSuffixes.some((suffix) => name.endsWith(suffix) && name.length > suffix.length);
}

export function addressIsListed(list: OutboundAllowList, address: IpAddress): boolean {
  return list.networks.some((network) => networkContains(network, address));
}

/**
 * Why `hostname` may not be registered as a destination, or undefined when it
 * may. An address must be in a listed network; a name must be listed by name
 * (where it points is checked at each delivery, after resolving it).
 */
export function destinationRefusal(list: OutboundAllowList, hostname: string): string | undefined {
  const address = parseIpAddress(hostname);
  if (address) return addressIsListed(list, address) ? undefined : 'its address is not in a network on the outbound allow-list';
  return nameIsAllowed(list, hostname) ? undefined : 'its host is not on the outbound allow-list';
}

/** Whether an allowed name may be reached at `address`: a listed network, or the public internet. */
export function resolvedAddressIsAllowed(list: OutboundAllowList, address: IpAddress): boolean {
  return addressIsListed(list, address) || isPublicAddress(address);
}
