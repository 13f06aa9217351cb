import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { TEST_MASTER_KEY } from '../support/runtime.js';

const base = { NODE_ENV: 'test', WARTA_MASTER_KEY: TEST_MASTER_KEY, WARTA_ISSUER: 'http://localhost:3000' };
const sinkOf = (env: Record<string, string>) => loadConfig({ ...base, ...env }).audit.sink;
const refusal = (env: Record<string, string>) => {
  try {
    sinkOf(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('accepted');
};

describe('WARTA_AUDIT_SINK', () => {
  it('is off unless set', () => {
    expect(sinkOf({})).toBeUndefined();
  });

  it('reads stdout, a file with its rotation, and syslog over TCP or TLS with the RFC ports by default', () => {
    expect(sinkOf({ WARTA_AUDIT_SINK: 'stdout' })).toMatchObject({ name: 'stdout', target: { kind: 'stdout' }, batchSize: 500 });
    expect(sinkOf({ WARTA_AUDIT_SINK: 'file:/var/log/warta/audit.jsonl', WARTA_AUDIT_SINK_FILE_MAX_BYTES: '1048576', WARTA_AUDIT_SINK_FILE_KEEP: '3' })).toMatchObject({
      name: 'file:/var/log/warta/audit.jsonl',
      target: { kind: 'file', path: '/var/log/warta/audit.jsonl', maxBytes: 1048576, keep: 3 },
    });
    expect(sinkOf({ WARTA_AUDIT_SINK: 'file:/var/log/warta/audit.jsonl' })).toMatchObject({ target: { maxBytes: 100 * 1024 * 1024, keep: 10 } });
    expect(sinkOf({ WARTA_AUDIT_SINK: 'syslog+tcp://SIEM.example.gov', WARTA_OUTBOUND_ALLOW: 'siem.example.gov' })).toMatchObject({
      name: 'syslog+tcp://siem.example.gov:514',
      target: { kind: 'syslog', transport: 'tcp', host: 'siem.example.gov', port: 514, ca: undefined },
    });
    const caFile = path.join(mkdtempSync(path.join(tmpdir(), 'warta-sink-ca-')), 'ca.pem');
    writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    expect(sinkOf({ WARTA_AUDIT_SINK: 'syslog+tls://siem.example.gov', WARTA_OUTBOUND_ALLOW: '*.example.gov', WARTA_AUDIT_SINK_CA_FILE: caFile })).toMatchObject({
      name: 'syslog+tls://siem.example.gov:6514',
      target: { transport: 'tls', port: 6514, ca: expect.stringContaining('BEGIN CERTIFICATE') },
    });
  });

  it('refuses a collector whose host is not on the outbound allow-list', () => {
    expect(refusal({ WARTA_AUDIT_SINK: 'syslog+tls://siem.example.gov:6514', WARTA_OUTBOUND_ALLOW: 'receiver.example.gov' })).toMatch(/^WARTA_AUDIT_SINK: .*siem\.example\.gov.*outbound allow-list/);
    expect(refusal({ WARTA_AUDIT_SINK: 'syslog+tcp://10.1.2.3:514', WARTA_OUTBOUND_ALLOW: 'siem.example.gov' })).toMatch(/WARTA_AUDIT_SINK: .*10\.1\.2\.3/);
    // Production's unset list is empty: every collector must be named.
    expect(refusal({ NODE_ENV: 'production', WARTA_ISSUER: 'https://id.example.gov', WARTA_AUDIT_SINK: 'syslog+tcp://127.0.0.1:514' })).toMatch(/^WARTA_AUDIT_SINK: /);
  });

  it('refuses what it cannot read, rather than ship somewhere else or nowhere', () => {
    expect(refusal({ WARTA_AUDIT_SINK: 'syslog://siem.example.gov', WARTA_OUTBOUND_ALLOW: 'siem.example.gov' })).toMatch(/^WARTA_AUDIT_SINK: expected/);
    expect(refusal({ WARTA_AUDIT_SINK: 'syslog+tcp://siem.example.gov:70000', WARTA_OUTBOUND_ALLOW: 'siem.example.gov' })).toMatch(/port/);
    expect(refusal({ WARTA_AUDIT_SINK: 'file:audit.jsonl' })).toMatch(/absolute/);
    expect(refusal({ WARTA_AUDIT_SINK: 'https://siem.example.gov/ingest' })).toMatch(/^WARTA_AUDIT_SINK: expected/);
    expect(refusal({ WARTA_AUDIT_SINK: 'file:/var/log/audit.jsonl', WARTA_AUDIT_SINK_FILE_KEEP: '0' })).toMatch(/^WARTA_AUDIT_SINK_FILE_KEEP/);
    expect(refusal({ WARTA_AUDIT_SINK: 'syslog+tcp://siem.example.gov', WARTA_OUTBOUND_ALLOW: 'siem.example.gov', WARTA_AUDIT_SINK_CA_FILE: '/etc/ssl/ca.pem' })).toMatch(/^WARTA_AUDIT_SINK_CA_FILE: only/);
    expect(refusal({ WARTA_AUDIT_SINK: 'syslog+tls://siem.example.gov', WARTA_OUTBOUND_ALLOW: 'siem.example.gov', WARTA_AUDIT_SINK_CA_FILE: '/nonexistent/ca.pem' })).toMatch(/^WARTA_AUDIT_SINK_CA_FILE: cannot read/);
  });
});
