import { describe, expect, it } from 'vitest';
import { generateMasterKeyBase64, masterKeyFromBase64 } from '../../src/crypto/master-key.js';
import { DecryptionError, MasterKeyMismatchError, openSecretBox, rewrapDataKeys } from '../../src/crypto/secret-box.js';
import { createTestRuntime } from '../support/runtime.js';

const runtime = await createTestRuntime();

describe('envelope encryption', () => {
  it('round-trips a secret and binds it to its context', () => {
    const sealed = runtime.box.seal('JBSWY3DPEHPK3PXP', 'totp user-1');
    expect(sealed).toMatch(/^v1\.dk-[\w-]+\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(sealed).not.toContain('JBSWY3DPEHPK3PXP');
    expect(runtime.box.openText(sealed, 'totp user-1')).toBe('JBSWY3DPEHPK3PXP');
    expect(() => runtime.box.open(sealed, 'totp user-2')).toThrow(DecryptionError);
  });

  it('detects any change to the ciphertext, iv or tag', () => {
    const sealed = runtime.box.seal('secret', 'ctx');
    const parts = sealed.split('.');
    for (const index of [2, 3, 4]) {
      const tampered = [...parts];
      const bytes = Buffer.from(tampered[index]!, 'base64url');
      bytes[0] = bytes[0]! ^ 1;
      tampered[index] = bytes.toString('base64url');
      expect(() => runtime.box.open(tampered.join('.'), 'ctx')).toThrow(DecryptionError);
    }
    expect(() => runtime.box.open('garbage', 'ctx')).toThrow(DecryptionError);
  });

  it('keeps no secret readable in the database: data keys are wrapped, signing keys sealed', async () => {
    const dataKeys = await runtime.db.selectFrom('data_keys').selectAll().execute();
    expect(dataKeys).toHaveLength(1);
    expect(dataKeys[0]!.master_key_id).toBe(runtime.masterKey.id);
    const signingKeys = await runtime.db.selectFrom('signing_keys').selectAll().execute();
    expect(signingKeys[0]!.private_jwk_enc).toMatch(/^v1\./);
    expect(JSON.stringify(signingKeys[0]!.public_jwk)).not.toMatch(/"d"/);
  });

  it('refuses a wrong master key instead of serving with garbage keys', async () => {
    const wrong = masterKeyFromBase64(generateMasterKeyBase64());
    await expect(openSecretBox(runtime.db, wrong, runtime.clock)).rejects.toThrow(MasterKeyMismatchError);
    await expect(openSecretBox(runtime.db, wrong, runtime.clock)).rejects.toThrow(/wrong WARTA_MASTER_KEY/);
  });

  it('rotates the master key by re-wrapping data keys; old secrets still open, the old key no longer does', async () => {
    const sealedBefore = runtime.box.seal('kept across rotation', 'ctx');
    const next = masterKeyFromBase64(generateMasterKeyBase64());
    expect(await rewrapDataKeys(runtime.db, runtime.masterKey, next)).toBe(1);
    const reopened = await openSecretBox(runtime.db, next, runtime.clock);
    expect(reopened.openText(sealedBefore, 'ctx')).toBe('kept across rotation');
    await expect(openSecretBox(runtime.db, runtime.masterKey, runtime.clock)).rejects.toThrow(MasterKeyMismatchError);
    // and back, so the rest of this file's runtime stays consistent
    await rewrapDataKeys(runtime.db, next, runtime.masterKey);
  });

  it('refuses to re-wrap with a master key that does not fit the data keys, changing nothing', async () => {
    const stranger = masterKeyFromBase64(generateMasterKeyBase64());
    const next = masterKeyFromBase64(generateMasterKeyBase64());
    const before = await runtime.db.selectFrom('data_keys').selectAll().execute();
    await expect(rewrapDataKeys(runtime.db, stranger, next)).rejects.toThrow(MasterKeyMismatchError);
    expect(await runtime.db.selectFrom('data_keys').selectAll().execute()).toEqual(before);
  });
});
