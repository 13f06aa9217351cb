import { existsSync, readFileSync } from 'node:fs';
import { appendAudit } from '../../audit/audit.js';
import { listSigningKeys, planSigningKeyRotation, type PlannedRotation } from '../../crypto/signing-key-admin.js';
import { generateMasterKeyBase64, masterKeyFromBase64, writeMasterKeyFile } from '../../crypto/master-key.js';
import { rewrapDataKeys } from '../../crypto/secret-box.js';
import { incidentReason } from '../../incident/reason.js';
import { type EmergencyRotation, emergencyRotateSigningKey } from '../../incident/withdraw-signing-key.js';
import { CliUsageError, defineCommand, integerFlag, stringFlag } from '../command.js';

type KeyRotation = ({ emergency: false } & PlannedRotation) | ({ emergency: true } & EmergencyRotation);

export const rotateSigningKeyCommand = defineCommand<KeyRotation>({
  path: ['keys', 'rotate'],
  summary: 'add a new ES256 signing key; the previous one stays published until its tokens have expired (--emergency: withdrawn at once)',
  flags: {
    'publish-ahead-seconds': { type: 'string', description: 'publish the new key this long before signing with it (default WARTA_KEY_CACHE_SECONDS)' },
    emergency: { type: 'boolean', description: 'the key may be compromised: withdraw every published key now, sign with the new one now, tell every event receiver (needs --reason)' },
    reason: { type: 'string', description: 'why (kept in the audit log; required with --emergency)' },
  },
  async run(flags, io) {
    if (flags.emergency === true) {
      if (flags['publish-ahead-seconds'] !== undefined) throw new CliUsageError('--emergency signs with the new key at once: leave out --publish-ahead-seconds');
      if (stringFlag(flags, 'reason') === undefined) throw new CliUsageError('--emergency needs --reason');
      const runtime = await io.runtime();
      return { emergency: true, ...(await emergencyRotateSigningKey(runtime, { actor: 'cli' }, { reason: stringFlag(flags, 'reason') })) };
    }
    const runtime = await io.runtime();
    const reason = stringFlag(flags, 'reason');
    return { emergency: false, ...(await planSigningKeyRotation(runtime, { actor: 'cli' }, { reason: reason === undefined ? null : incidentReason(reason), publishAheadSeconds: integerFlag(flags, 'publish-ahead-seconds') })) };
  },
  format: (r) =>
    r.emergency
      ? [
          `New signing key ${r.kid} signs from ${r.active_from}.`,
          `Withdrawn now: ${r.withdrawn.join(', ') || 'none'}. Other instances stop trusting them within WARTA_KEY_CACHE_SECONDS (restart them to make it now).`,
          `${r.sets_queued} SET(s) queued to the event receivers of ${r.organisations_told} organisation(s).`,
        ].join('\n')
      : [`New signing key ${r.kid} signs from ${r.active_from}.`, ...r.retiring.map((k) => `Key ${k.kid} stays published until ${k.unpublished_at}.`)].join('\n'),
});

export const listSigningKeysCommand = defineCommand({
  path: ['keys', 'list'],
  summary: 'list signing keys and their state',
  flags: {},
  async run(_flags, io) {
    const runtime = await io.runtime();
    return { keys: await listSigningKeys(runtime.db, runtime.clock) };
  },
  format: (r) => r.keys.map((k) => `${k.kid}  ${k.alg}  ${k.state.padEnd(9)}  from ${k.active_from}${k.retire_at ? `  until ${k.retire_at}` : ''}`).join('\n'),
});

export const rotateMasterKeyCommand = defineCommand({
  path: ['keys', 'rotate-master'],
  summary: 're-wrap every data key with a new master key (generated into --new-key-file when that file does not exist)',
  flags: {
    'new-key-file': { type: 'string', file: true, description: 'file holding the new master key (base64); created with mode 0600 if missing', required: true },
  },
  async run(flags, io) {
    const file = stringFlag(flags, 'new-key-file')!;
    let generated = false;
    if (!existsSync(file)) {
      writeMasterKeyFile(file, generateMasterKeyBase64());
      generated = true;
    }
    let next;
    try {
      next = masterKeyFromBase64(readFileSync(file, 'utf8'));
    } catch {
      throw new CliUsageError(`${file} does not hold a 32-byte base64 master key`);
    }
    const runtime = await io.runtime();
    if (next.id === runtime.masterKey.id) throw new CliUsageError('the new master key is the one already in use');
    const rewrapped = await rewrapDataKeys(runtime.db, runtime.masterKey, next);
    await appendAudit(runtime.db, runtime, { actor: 'cli' }, { action: 'master_key.rotated', details: { from: runtime.masterKey.id, to: next.id, data_keys: rewrapped } });
    return { previous_master_key_id: runtime.masterKey.id, master_key_id: next.id, data_keys_rewrapped: rewrapped, new_key_file: file, generated };
  },
  format: (r) =>
    `Re-wrapped ${r.data_keys_rewrapped} data key(s) from master key ${r.previous_master_key_id} to ${r.master_key_id}.\n` +
    `Now point WARTA_MASTER_KEY_FILE at ${r.new_key_file} (or set WARTA_MASTER_KEY to its content) on every instance and restart them; running instances keep working until then.`,
});
