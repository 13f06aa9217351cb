/**
 * Username-first passkey options for an unknown name must look like a real
 * account's: the decoys' count, id lengths and transports follow the instance's
 * real passkeys (src/webauthn/decoy.ts), and the same name gets the same answer.
 */
import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { SHAPES_MAX_AGE_SECONDS } from '../../src/webauthn/decoy.js';
import { createTestRuntime } from '../support/runtime.js';
import { authenticationOptions, browser, enroll, TEST_ENV } from './ceremony.js';

const runtime = await createTestRuntime({ env: TEST_ENV });

/** Every passkey planted so far stops counting: each test sets the instance's passkeys it needs. */
beforeEach(async () => {
  await runtime.db.updateTable('webauthn_credentials').set({ revoked_at: runtime.clock.now() }).where('revoked_at', 'is', null).execute();
});

/** A user whose passkeys have ids of `idBytes` bytes and name `transports`. */
async function accountWith(passkeys: number, idBytes: number, transports: string[]) {
  const { user } = await enroll(runtime);
  const [first] = await runtime.db.selectFrom('webauthn_credentials').selectAll().where('user_id', '=', user.id).execute();
  for (let index = 0; index < passkeys; index++) {
    const values = { credential_id: randomBytes(idBytes).toString('base64url'), transports: JSON.stringify(transports) };
    if (index === 0) await runtime.db.updateTable('webauthn_credentials').set(values).where('id', '=', first!.id).execute();
    else await runtime.db.insertInto('webauthn_credentials').values({ ...first!, ...values, id: crypto.randomUUID() } as never).execute();
  }
  return user;
}

/** The distribution is measured again once it is older than an hour. */
const remeasure = () => runtime.clock.advance(SHAPES_MAX_AGE_SECONDS + 1);

const decoysFor = async (name: string) => (await authenticationOptions(browser(runtime), name)).allowCredentials!;

describe('decoy credentials for an unknown name', () => {
  it('look like the real passkeys: where every account has one 64-byte usb/nfc key, so does the decoy', async () => {
    for (let i = 0; i < 3; i++) await accountWith(1, 64, ['nfc', 'usb']);
    remeasure();
    const real = await authenticationOptions(browser(runtime), (await accountWith(1, 64, ['nfc', 'usb'])).username);
    const decoys = await decoysFor('nobody@example.gov');
    expect(decoys).toHaveLength(1);
    expect(decoys[0]!.id).toHaveLength(real.allowCredentials![0]!.id.length);
    expect(decoys[0]).toMatchObject({ type: 'public-key', transports: ['nfc', 'usb'] });
  });

  it('draw their count, id length and transports from the real ones, each value in use', async () => {
    for (let i = 0; i < 3; i++) await accountWith(2, 16, ['hybrid', 'internal']);
    for (let i = 0; i < 3; i++) await accountWith(1, 64, ['usb']);
    remeasure();
    // The first request measures; requests racing it are answered from the previous distribution.
    await decoysFor('first@example.gov');
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => decoysFor(`person${i}@example.gov`)));
    expect(new Set(answers.map((decoys) => decoys.length))).toEqual(new Set([1, 2]));
    const shapes = new Set(answers.flat().map((decoy) => `${decoy.id.length}:${decoy.transports!.join(',')}`));
    // 16 bytes are 22 base64url characters, 64 bytes 86; transports pair independently of length, as in any mix.
    for (const shape of shapes) expect(['22:hybrid,internal', '86:hybrid,internal', '22:usb', '86:usb']).toContain(shape);
    expect(new Set(answers.flat().map((decoy) => decoy.id.length))).toEqual(new Set([22, 86]));
  });

  it('are the same for the same name, in any letter case, and differ between names', async () => {
    await accountWith(1, 32, ['internal']);
    remeasure();
    const first = await decoysFor('Someone@Example.gov');
    expect(await decoysFor('someone@example.gov')).toEqual(first);
    expect((await decoysFor('someone.else@example.gov'))[0]!.id).not.toBe(first[0]!.id);
  });

  it('come from the stored distribution for an hour, then from the passkeys as they are now', async () => {
    await accountWith(1, 32, ['internal']);
    remeasure();
    const before = await decoysFor('later@example.gov');
    await runtime.db.updateTable('webauthn_credentials').set({ revoked_at: runtime.clock.now() }).where('revoked_at', 'is', null).execute();
    await accountWith(1, 64, ['usb']);
    expect(await decoysFor('later@example.gov')).toEqual(before);
    remeasure();
    expect((await decoysFor('later@example.gov'))[0]).toMatchObject({ transports: ['usb'] });
  });
});
