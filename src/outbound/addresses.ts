/**
 * IP addresses and networks as numbers, so that a network test is one
 * comparison whatever way the address was written (`::ffff:10.0.0.1` is
 * 10.0.0.1, `[::1]` is ::1).
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface IpAddress {
  family: 4 | 6;
  value: bigint;
}

export interface IpNetwork {
  family: 4 | 6;
  /** The network's first address (host bits cleared). */
  base: bigint;
  prefix: number;
}

const bits = (family: 4 | 6) => (family === 4 ? 32 : 128);

/**
 * Reads an IPv4 or IPv6 address (brackets and an IPv6 zone allowed); undefined
 * when it is not one. An IPv4-mapped IPv6 address is read as the IPv4 address
 * it maps: a socket to it reaches that IPv4 host.
 */
export function parseIpAddress(text: string): IpAddress | undefined {
  let address = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const zone = address.indexOf('%');
  if (zone >= 0) address = address.slice(0, zone);
  if (isIPv4(address)) return { family: 4, value: ipv4Value(address) };
  if (!isIPv6(address)) return undefined;
  const value = ipv6Value(address);
  if (value >> 32n === 0xffffn) return { family: 4, value: value & 0xffffffffn };
  return { family: 6, value };
}

function ipv4Value(address: string): bigint {
  return address.split('.').reduce((value, octet) => (value << 8n) | BigInt(Number(octet)), 0n);
}

function ipv6Value(address: string): bigint {
  let text = address;
  // An IPv4 tail (`::ffff:1.2.3.4`) is the last two groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const tail = ipv4Value(v4[1]!);
    text = `${text.slice(0, v4.index)}${(tail >> 16n).toString(16)}:${(tail & 0xffffn).toString(16)}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const groupsOf = (part: string) => (part === '' ? [] : part.split(':'));
  const headGroups = groupsOf(head);
  const restGroups = rest === undefined ? [] : groupsOf(rest);
  const groups = rest === undefined ? headGroups : [...headGroups, ...Array<string>(8 - headGroups.length - restGroups.length).fill('0'), ...restGroups];
  return groups.reduce((value, group) => (value << 16n) | BigInt(parseInt(group, 16)), 0n);
}

/** Reads `address/prefix`, or a single address as its own network; undefined when malformed or when host bits are set (a likely typo). */
export function parseIpNetwork(text: string): IpNetwork | undefined {
  const slash = text.indexOf('/');
  const addressText = slash < 0 ? text : text.slice(0, slash);
  if (addressText.includes('%')) return undefined;
  const address = parseIpAddress(addressText);
  if (!address) return undefined;
  // A mapped address written with an IPv6 prefix counts its prefix from the IPv4 part.
  const writtenAsV6 = address.family === 4 && !isIPv4(addressText);
  const prefixText = slash < 0 ? undefined : text.slice(slash + 1);
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  let prefix = prefixText === undefined ? bits(address.family) : Number(prefixText);
  if (writtenAsV6) {
    if (prefixText !== undefined && prefix < 96) return undefined;
    if (prefixText !== undefined) prefix -= 96;
  }
  if (prefix > bits(address.family)) return undefined;
  const host = (1n << BigInt(bits(address.family) - prefix)) - 1n;
  if ((address.value & host) !== 0n) return undefined;
  return { family: address.family, base: address.value, prefix };
}

export function networkContains(network: IpNetwork, address: IpAddress): boolean {
  if (network.family !== address.family) return false;
  const shift = BigInt(bits(network.family) - network.prefix);
  return address.value >> shift === network.base >> shift;
}

export function formatNetwork(network: IpNetwork): string {
  return `${formatAddress({ family: network.family, value: network.base })}/${network.prefix}`;
}

export function formatAddress(address: IpAddress): string {
  if (address.family === 4) return [24n, 16n, 8n, 0n].map((shift) => String((address.value >> shift) & 0xffn)).join('.');
  const groups = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((shift) => ((address.value >> shift) & 0xffffn).toString(16));
  // Node prints the canonical (RFC 5952) form for us.
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

const network = (text: string) => parseIpNetwork(text)!;

/**
 * Addresses that are not on the public internet (IANA special-purpose
 * registries, RFC 6890): private, loopback, link-local (cloud metadata at
 * 169.254.169.254), shared, documentation, multicast, and the IPv6 forms that
 * tunnel to an IPv4 address (NAT64, 6to4, Teredo). An allowed name may resolve
 * into them only where an allowed network covers the address.
 */
const NOT_PUBLIC: IpNetwork[] = [
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24', '192.0.2.0/24',
  '192.88.99.0/24', '192.168.0.0/16', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '224.0.0.0/4', '240.0.0.0/4',
  '64:ff9b::/96', '64:ff9b:1::/48', '100::/64', '2001::/23', '2001:db8::/32', '2002::/16', '3fff::/20',
].map(network);

/** IPv6 global unicast is 2000::/3; everything else in IPv6 (loopback, unique-local, link-local, multicast …) is not public. */
const IPV6_GLOBAL_UNICAST = network('2000::/3');

export function isPublicAddress(address: IpAddress): boolean {
  if (address.family === 6 && !networkContains(IPV6_GLOBAL_UNICAST, address)) return false;
  return !NOT_PUBLIC.some((n) => networkContains(n, address));
}
