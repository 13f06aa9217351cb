import { getRandomValues, timingSafeEqual } from 'node:crypto';
import { HOTP, Secret, TOTP } from 'otpauth';
import { WartaError } from '../errors.js';
import { encodeQr, MAX_BYTES, qrCodeSvg } from './qr.js';

export type TotpSettings = {
  algorithm: 'SHA1' | 'SHA256' | 'SHA512';
  digits: 6 | 7 | 8;
  /** Time step in seconds. */
  period: number;
};

/** What every authenticator app understands; the others are opt-in per deployment. */
export const DEFAULT_TOTP_SETTINGS: TotpSettings = { algorithm: 'SHA1', digits: 6, period: 30 };

/** RFC 4226 section 4 recommends a 160-bit shared secret. */
const SECRET_BYTES = 20;

export function generateTotpSecret(): Uint8Array {
  return getRandomValues(new Uint8Array(SECRET_BYTES));
}

/** The secret in base32, in groups of four, for people who type it in instead of scanning. */
export function formatSecretForDisplay(secret: Uint8Array): string {
  return (toOtpauthSecret(secret).base32.match(/.{1,4}/g) ?? []).join(' ');
}

/** The `otpauth://totp/…` key URI that authenticator apps import from the QR code. */
export function buildOtpauthUri({
  secret,
  issuer,
  accountName,
  settings,
}: {
  secret: Uint8Array;
  issuer: string;
  accountName: string;
  settings: TotpSettings;
}): string {
  // The Key URI Format forbids colons in either part: apps split the label "issuer:account" on it.
  if (issuer.includes(':') || accountName.includes(':')) {
    throw new WartaError(400, 'invalid_totp_label', 'The issuer and account name cannot contain a colon.');
  }
  const uri = new TOTP({
    issuer,
    label: accountName,
    issuerInLabel: true,
    secret: toOtpauthSecret(secret),
    algorithm: settings.algorithm,
    digits: settings.digits,
    period: settings.period,
  }).toString();
  // The largest QR code holds 2331 bytes; a longer key URI could be shown but never scanned.
  if (Buffer.byteLength(uri) > MAX_BYTES) {
    throw new WartaError(400, 'invalid_totp_label', 'The issuer and account name are too long for a QR code.');
  }
  return uri;
}

/** Rendered here, never by an outside service: the QR code carries the shared secret. */
export function renderQrSvg(text: string): string {
  return qrCodeSvg(encodeQr(text), 'QR code for an authenticator app');
}

/**
 * Returns the time step (RFC 6238 `T`) whose code equals `code`, searching `window` steps either
 * side of the step containing `now`, or null when none does. Replay protection is the caller's:
 * accept a step at most once per user and never one older than the last accepted.
 */
export function findMatchingTimeStep({
  secret,
  code,
  settings,
  now,
  window,
}: {
  secret: Uint8Array;
  code: string;
  settings: TotpSettings;
  now: Date;
  window: number;
}): number | null {
  const submitted = Buffer.from(parseCode(code, settings.digits));
  const otpauthSecret = toOtpauthSecret(secret);
  const current = TOTP.counter({ period: settings.period, timestamp: now.getTime() });

  let matched: number | null = null;
  // Every candidate is computed and compared, without stopping at a match, so the response time
  // does not tell which step matched.
  for (const step of stepsNearestFirst(current, window)) {
    const expected = HOTP.generate({
      secret: otpauthSecret,
      algorithm: settings.algorithm,
      digits: settings.digits,
      counter: step,
    });
    if (timingSafeEqual(Buffer.from(expected), submitted) && matched === null) matched = step;
  }
  return matched;
}

/** Exactly `digits` ASCII digits; spaces are allowed because apps display codes as "123 456". */
function parseCode(code: string, digits: number): string {
  const compact = code.replaceAll(' ', '');
  if (compact.length !== digits || !/^[0-9]+$/.test(compact)) {
    throw new WartaError(400, 'invalid_code_format', `Enter the ${digits}-digit code from your authenticator app.`);
  }
  return compact;
}

function* stepsNearestFirst(current: number, window: number): Generator<number> {
  yield current;
  for (let distance = 1; distance <= window; distance++) {
    if (current - distance >= 0) yield current - distance;
    yield current + distance;
  }
}

function toOtpauthSecret(secret: Uint8Array): Secret {
  // Uint8Array.from copies into an ArrayBuffer of exactly the secret's length; a view may share a larger
  // one, and Buffer#slice (a decrypted secret is a Buffer) returns such a view instead of a copy.
  return new Secret({ buffer: Uint8Array.from(secret).buffer });
}
