import { randomUUID } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import type { Clock } from '../../src/clock.js';
import { json, type User } from '../../src/db/schema.js';
import { hashPassword } from '../../src/passwords/hash.js';
import { storePasswordHash } from '../../src/passwords/service.js';
import type { Runtime } from '../../src/runtime.js';
import { confirmTotpSetup, startTotpSetup } from '../../src/totp/service.js';
import type { TestRuntime } from '../support/runtime.js';

export const GOOD_PASSWORD = 'correct horse battery staple';

/** The raw secret behind the base32 text a set-up shows ("ABCD EFGH …"). */
export const secretFromDisplay = (display: string): Uint8Array => new Uint8Array(Secret.fromBase32(display.replaceAll(' ', '')).buffer);

/** The code an authenticator app shows at the runtime's time, `steps` periods later (negative: earlier). */
export function codeAt(secret: Uint8Array, clock: Clock, steps = 0, settings: { digits?: number; period?: number; algorithm?: string } = {}): string {
  const period = settings.period ?? 30;
  return TOTP.generate({
    secret: new Secret({ buffer: secret.slice().buffer }),
    algorithm: settings.algorithm ?? 'SHA1',
    digits: settings.digits ?? 6,
    period,
    timestamp: clock.now().getTime() + steps * period * 1000,
  });
}

/** Gives `user` a TOTP credential the way the account page does (set up, confirm), then a password; moves time to the next step. */
export async function givePasswordAndTotp(runtime: TestRuntime, user: User, password = GOOD_PASSWORD): Promise<{ secret: Uint8Array }> {
  const setup = await startTotpSetup(runtime, { actor: 'test' }, user);
  const secret = secretFromDisplay(setup.secret);
  await confirmTotpSetup(runtime, { actor: 'test' }, user, codeAt(secret, runtime.clock));
  await givePassword(runtime, user, password);
  // The confirming code's step is now used; sign-ins in tests start from a fresh step.
  runtime.clock.advance(30);
  return { secret };
}

export async function givePassword(runtime: Runtime, user: User, password = GOOD_PASSWORD): Promise<void> {
  const hash = await hashPassword(password, runtime.config.passwords.argon2);
  await runtime.db.transaction().execute((trx) => storePasswordHash(trx, runtime.clock, user.id, hash));
}

let ipCounter = 0;
/** A fresh client address per test, so per-IP counters of one test do not throttle another (the runtime trusts X-Forwarded-For). */
export const freshIp = () => {
  ipCounter += 1;
  return `10.0.${Math.floor(ipCounter / 250)}.${(ipCounter % 250) + 1}`;
};

/** A stored passkey row, as a registration would leave it (the ceremony itself is tested in test/webauthn). */
export async function givePasskey(runtime: Runtime, user: User): Promise<void> {
  await runtime.db
    .insertInto('webauthn_credentials')
    .values({
      id: randomUUID(),
      user_id: user.id,
      credential_id: randomUUID(),
      public_key: 'test-key',
      sign_count: 0,
      transports: json(['internal']),
      aaguid: '00000000-0000-0000-0000-000000000000',
      attestation_fmt: 'none',
      authenticator_name: null,
      backup_eligible: true,
      backed_up: true,
      name: 'Test passkey',
      created_at: runtime.clock.now(),
      last_used_at: null,
      revoked_at: null,
      blocked_at: null,
      blocked_reason: null,
      bound_acr: 'urn:warta:acr:phishing-resistant',
      bound_via: 'invitation',
      confirmed_at: null,
      confirmed_by: null,
    })
    .execute();
}
