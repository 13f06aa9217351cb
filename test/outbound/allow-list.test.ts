import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { isPublicAddress, parseIpAddress } from '../../src/outbound/addresses.js';
import { destinationRefusal, parseOutboundAllowList, resolvedAddressIsAllowed } from '../../src/outbound/allow-list.js';
import { TEST_MASTER_KEY } from '../support/runtime.js';

const address = (text: string) => parseIpAddress(text)!;

describe('WARTA_OUTBOUND_ALLOW', () => {
  it('reads names, *.wildcards, and IPv4 and IPv6 networks, normalised', () => {
    const list = parseOutboundAllowList(' SIEM.Ministry.gov. , *.receivers.example.gov,10.20.0.0/16, 127.0.0.1 ,fd00:1::/64,[::1], ::ffff:192.168.1.0/120');
    expect(list.entries).toEqual(['siem.ministry.gov', '*.receivers.example.gov', '10.20.0.0/16', '127.0.0.1/32', 'fd00:1::/64', '::1/128', '192.168.1.0/24']);
    expect(parseOutboundAllowList('none').entries).toEqual([]);
  });

  it.each([
    ['10.0.0.1/8', 'host bits set'],
    ['10.0.0.0/33', 'prefix too long'],
    ['10.0.0/8', 'a truncated address'],
    ['fe80::1%eth0', 'an IPv6 zone'],
    ['*.gov', 'a wildcard over a top-level domain'],
    ['*', 'everything'],
    ['a*.example.gov', 'a wildcard inside a label'],
    ['https://siem.example.gov', 'a URL'],
    ['siem.example.gov:8443', 'a port'],
    ['under_score.example.gov', 'a label with an underscore'],
    ['bücher.example', 'a name not in its xn-- form'],
  ])('refuses %s (%s)', (entry) => {
    expect(() => parseOutboundAllowList(`localhost,${entry}`)).toThrow(entry);
  });

  it('stops start-up on a bad entry, naming the variable', () => {
    const load = () => loadConfig({ NODE_ENV: 'test', WARTA_MASTER_KEY: TEST_MASTER_KEY, WARTA_OUTBOUND_ALLOW: 'siem.example.gov,10.0.0.1/8' });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/^WARTA_OUTBOUND_ALLOW: "10.0.0.1\/8" is not an IPv4 or IPv6 address or network/);
  });

  it('allows nothing in production unless the operator names it, and the local machine otherwise', () => {
    const production = loadConfig({ NODE_ENV: 'production', WARTA_MASTER_KEY: TEST_MASTER_KEY, WARTA_ISSUER: 'https://id.example.gov' });
    expect(production.outbound.allow.entries).toEqual([]);
    expect(destinationRefusal(production.outbound.allow, 'siem.example.gov')).toBeDefined();
    expect(loadConfig({ NODE_ENV: 'development', WARTA_MASTER_KEY: TEST_MASTER_KEY }).outbound.allow.entries).toEqual(['localhost', '127.0.0.0/8', '::1/128']);
    expect(loadConfig({ NODE_ENV: 'test', WARTA_MASTER_KEY: TEST_MASTER_KEY, WARTA_OUTBOUND_ALLOW: 'none' }).outbound.allow.entries).toEqual([]);
  });
});

describe('a destination at registration', () => {
  const list = parseOutboundAllowList('siem.ministry.gov,*.receivers.example.gov,127.0.0.1,fd00:1::/64');

  it.each(['siem.ministry.gov', 'SIEM.ministry.gov.', 'a.receivers.example.gov', 'a.b.receivers.example.gov', '127.0.0.1', '[fd00:1::5]', '[::ffff:127.0.0.1]'])('admits %s', (host) => {
    expect(destinationRefusal(list, host)).toBeUndefined();
  });

  it.each([
    ['10.0.0.1', 'a private address'],
    ['169.254.169.254', 'the cloud metadata service'],
    ['[::1]', 'IPv6 loopback when only 127.0.0.1 is listed'],
    ['127.0.0.2', 'another loopback address'],
    ['[::ffff:10.0.0.1]', 'a private address written as IPv4-mapped IPv6'],
    ['receivers.example.gov', 'the apex of a wildcard'],
    ['siem.ministry.gov.evil.example', 'a name that only starts like a listed one'],
    ['evilsiem.ministry.gov', 'a name that only ends like a listed one'],
    ['localhost', 'a name not on the list'],
  ])('refuses %s (%s)', (host) => {
    expect(destinationRefusal(list, host)).toBeDefined();
  });
});

describe('where an allowed name may resolve to', () => {
  const list = parseOutboundAllowList('siem.ministry.gov,10.20.0.0/16');

  it.each(['10.20.3.4', '::ffff:10.20.3.4'])('a listed network: %s', (ip) => expect(resolvedAddressIsAllowed(list, address(ip))).toBe(true));

  it.each(['10.0.0.1', '10.21.0.1', '127.0.0.1', '0.0.0.0', '169.254.169.254', '100.64.0.1', '172.16.0.1', '192.168.1.1', '::1', '::', 'fe80::1', 'fd00::1', '::ffff:169.254.169.254', '64:ff9b::a00:1', '2002:a00:1::', 'ff02::1'])(
    'not %s, which is neither listed nor public',
    (ip) => expect(resolvedAddressIsAllowed(list, address(ip))).toBe(false),
  );

  it('the public internet', () => {
    // Never connected to: only classified.
    expect(isPublicAddress(address('193.0.6.139'))).toBe(true);
    expect(isPublicAddress(address('2001:67c:2e8::1'))).toBe(true);
  });
});
