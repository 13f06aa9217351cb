/**
 * Which socket peers are the operator's reverse proxy (`WARTA_TRUST_PROXY`). Only a
 * proxy's headers about the client are believed: the last X-Forwarded-For hop, and
 * the client certificate it verified (RFC 8705, src/http/client-certificate.ts).
 *
 * `any` believes every peer: safe only where the network lets nothing but the proxy
 * reach Warta (the deployment docs' compose and Kubernetes set-ups). `networks`
 * believes only peers in the listed networks, whatever the network lets through.
 */
import { formatNetwork, type IpNetwork, networkContains, parseIpAddress, parseIpNetwork } from '../outbound/addresses.js';

export type ProxyTrust = { kind: 'none' } | { kind: 'any' } | { kind: 'networks'; networks: IpNetwork[]; entries: string[] };

/** A `WARTA_TRUST_PROXY` entry that is neither an address nor a network. */
export class ProxyTrustEntryError extends Error {}

/** `true`/`false` (and their spellings), or comma-separated addresses and networks such as `127.0.0.1, 10.20.0.0/16, fd00::/8`. */
export function parseProxyTrust(raw: string): ProxyTrust {
  const text = raw.trim().toLowerCase();
  if (['', '0', 'false', 'no', 'off'].includes(text)) return { kind: 'none' };
  if (['1', 'true', 'yes', 'on'].includes(text)) return { kind: 'any' };
  const networks: IpNetwork[] = [];
  for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const network = parseIpNetwork(item.replace(/^\[(.*)\]/, '$1'));
    if (!network) throw new ProxyTrustEntryError(`"${item}" is not an IPv4 or IPv6 address or network (address/prefix with no host bits set, e.g. 10.20.0.0/16)`);
    networks.push(network);
  }
  if (networks.length === 0) throw new ProxyTrustEntryError('no address or network is listed');
  return { kind: 'networks', networks, entries: networks.map(formatNetwork) };
}

/** Whether the socket peer at `peerAddress` (null: unknown) is a proxy whose headers about the client are believed. */
export function isTrustedProxy(trust: ProxyTrust, peerAddress: string | null): boolean {
  if (trust.kind === 'none') return false;
  if (trust.kind === 'any') return true;
  const address = peerAddress === null ? undefined : parseIpAddress(peerAddress);
  return address !== undefined && trust.networks.some((network) => networkContains(network, address));
}
