import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashToken } from '../../src/crypto/random.js';
import { consumeChallenge, issueChallenge, issueSealedChallenge, purgeSpentChallenges } from '../../src/webauthn/challenges.js';
import { openChallenge } from '../../src/webauthn/sealed-challenge.js';
import { openRuntime } from '../../src/runtime.js';
import { createTestRuntime, createTestUser, migratedPgliteSnapshot, testConfig } from '../support/runtime.js';

const runtime = await createTestRuntime();

describe('ceremony challenges', () => {
  it('are 256-bit, stored only as a hash, and spent once', async () => {
    const { challenge, row } = await issueChallenge(runtime.db, runtime, { ceremony: 'authentication' });
    expect(Buffer.from(challenge, 'base64url')).toHaveLength(32);
    expect(row.challenge_hash).toBe(hashToken(challenge));
    expect((await consumeChallenge(runtime.db, runtime.clock, { challenge, ceremony: 'authentication' })).id).toBe(row.id);
    await expect(consumeChallenge(runtime.db, runtime.clock, { challenge, ceremony: 'authentication' })).rejects.toMatchObject({ code: 'challenge_used', status: 400 });
  });

  it('are bound to their ceremony, user and session; a foreign attempt leaves them unspent', async () => {
    const user = await createTestUser(runtime);
    const other = await createTestUser(runtime);
    const { challenge } = await issueChallenge(runtime.db, runtime, { ceremony: 'registration', binding: { userId: user.id } });
    await expect(consumeChallenge(runtime.db, runtime.clock, { challenge, ceremony: 'authentication' })).rejects.toMatchObject({ code: 'challenge_foreign' });
    await expect(consumeChallenge(runtime.db, runtime.clock, { challenge, ceremony: 'registration', binding: { userId: other.id } })).rejects.toMatchObject({ code: 'challenge_foreign' });
    expect((await consumeChallenge(runtime.db, runtime.clock, { challenge, ceremony: 'registration', binding: { userId: user.id } })).user_id).toBe(user.id);
  });

  it('expire after WARTA_CHALLENGE_TTL_SECONDS', async () => {
    const { challenge } = await issueChallenge(runtime.db, runtime, { ceremony: 'authentication' });
    runtime.clock.advance(300);
    await expect(consumeChallenge(runtime.db, runtime.clock, { challenge, ceremony: 'authentication' })).rejects.toMatchObject({ code: 'challenge_expired' });
  });

  it('are purged by the housekeeping an hour after they expire, not before', async () => {
    const { row } = await issueChallenge(runtime.db, runtime, { ceremony: 'authentication' });
    const stillKept = () => runtime.db.selectFrom('webauthn_challenges').select('id').where('id', '=', row.id).execute();
    runtime.clock.advance(300 + 3600 - 1);
    await purgeSpentChallenges(runtime);
    expect(await stillKept()).toHaveLength(1);
    runtime.clock.advance(2);
    await purgeSpentChallenges(runtime);
    expect(await stillKept()).toEqual([]);
  });

  it('refuse a sign-in’s sealed challenge as foreign, though it was never stored', async () => {
    const challenge = issueSealedChallenge(runtime, { ceremony: 'authentication' });
    await expect(consumeChallenge(runtime.db, runtime.clock, { challenge, ceremony: 'registration', sealKey: runtime.challengeSealKey })).rejects.toMatchObject({ code: 'challenge_foreign' });
    await expect(consumeChallenge(runtime.db, runtime.clock, { challenge, ceremony: 'registration' })).rejects.toMatchObject({ code: 'challenge_unknown' });
  });

  it('survive a restart: the ceremony finishes after the server process reopens the database', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'warta-restart-'));
    const config = testConfig(runtime.databaseUrl ? { DATABASE_URL: runtime.databaseUrl } : {});
    // The folder starts from the migrated snapshot, as a server would with one shipped; the restart opens it as it is.
    const pgliteSnapshot = await migratedPgliteSnapshot();
    const before = await openRuntime(config, { clock: runtime.clock, pgliteDir: dir, pgliteSnapshot });
    const { challenge } = await issueChallenge(before.db, before, { ceremony: 'registration' });
    const sealed = issueSealedChallenge(before, { ceremony: 'authentication' });
    await before.close();
    const after = await openRuntime(config, { clock: runtime.clock, pgliteDir: dir, pgliteSnapshot });
    try {
      expect((await consumeChallenge(after.db, after.clock, { challenge, ceremony: 'registration' })).used_at).toEqual(runtime.clock.now());
      // A sign-in's sealed challenge: the key is an instance secret in the database, not in the process.
      expect(openChallenge(after.challengeSealKey, sealed)?.ceremony).toBe('authentication');
    } finally {
      await after.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
