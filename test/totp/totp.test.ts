import { execFileSync, spawnSync } from 'node:child_process';
import { HOTP, Secret, URI } from 'otpauth';
import { describe, expect, it } from 'vitest';
import { WartaError } from '../../src/errors.js';
import { modulesOfSvg, readQr } from '../support/qr-reader.js';
import {
  DEFAULT_TOTP_SETTINGS,
  type TotpSettings,
  buildOtpauthUri,
  findMatchingTimeStep,
  formatSecretForDisplay,
  generateTotpSecret,
  renderQrSvg,
} from '../../src/totp/totp.js';

const ascii = (text: string) => new TextEncoder().encode(text);

/** RFC 6238 Appendix B seeds: "1234567890" repeated to the hash's output length (20, 32, 64 bytes). */
const RFC_SEEDS = {
  SHA1: ascii('12345678901234567890'),
  SHA256: ascii('12345678901234567890123456789012'),
  SHA512: ascii('1234567890123456789012345678901234567890123456789012345678901234'),
} as const;

/** RFC 6238 Appendix B, all rows: time (s), T (hex), TOTP, mode. */
const RFC_6238_VECTORS = [
  [59, '0000000000000001', '94287082', 'SHA1'],
  [59, '0000000000000001', '46119246', 'SHA256'],
  [59, '0000000000000001', '90693936', 'SHA512'],
  [1111111109, '00000000023523EC', '07081804', 'SHA1'],
  [1111111109, '00000000023523EC', '68084774', 'SHA256'],
  [1111111109, '00000000023523EC', '25091201', 'SHA512'],
  [1111111111, '00000000023523ED', '14050471', 'SHA1'],
  [1111111111, '00000000023523ED', '67062674', 'SHA256'],
  [1111111111, '00000000023523ED', '99943326', 'SHA512'],
  [1234567890, '000000000273EF07', '89005924', 'SHA1'],
  [1234567890, '000000000273EF07', '91819424', 'SHA256'],
  [1234567890, '000000000273EF07', '93441116', 'SHA512'],
  [2000000000, '0000000003F940AA', '69279037', 'SHA1'],
  [2000000000, '0000000003F940AA', '90698825', 'SHA256'],
  [2000000000, '0000000003F940AA', '38618901', 'SHA512'],
  [20000000000, '0000000027BC86AA', '65353130', 'SHA1'],
  [20000000000, '0000000027BC86AA', '77737706', 'SHA256'],
  [20000000000, '0000000027BC86AA', '47863826', 'SHA512'],
] as const;

/** An independent code source for window tests: otpauth's HOTP at an explicit counter. */
function codeAtStep(secret: Uint8Array, step: number, settings: TotpSettings = DEFAULT_TOTP_SETTINGS): string {
  return HOTP.generate({
    secret: new Secret({ buffer: secret.slice().buffer }),
    algorithm: settings.algorithm,
    digits: settings.digits,
    counter: step,
  });
}

function thrownBy(action: () => unknown): WartaError {
  try {
    action();
  } catch (error) {
    if (error instanceof WartaError) return error;
    throw error;
  }
  throw new Error('expected a WartaError, nothing was thrown');
}

describe('RFC 6238 Appendix B test vectors', () => {
  it.each(RFC_6238_VECTORS)('at %i s (T = %s) accepts %s with %s', (time, stepHex, code, algorithm) => {
    const step = findMatchingTimeStep({
      secret: RFC_SEEDS[algorithm],
      code,
      settings: { algorithm, digits: 8, period: 30 },
      now: new Date(time * 1000),
      window: 0,
    });
    expect(step).toBe(Number.parseInt(stepHex, 16));
  });

  it.each(['SHA1', 'SHA256', 'SHA512'] as const)('rejects the %s vector under another hash', (algorithm) => {
    const other = algorithm === 'SHA1' ? 'SHA256' : 'SHA1';
    const step = findMatchingTimeStep({
      secret: RFC_SEEDS[algorithm],
      code: RFC_6238_VECTORS.find(([time, , , mode]) => time === 59 && mode === other)![2],
      settings: { algorithm, digits: 8, period: 30 },
      now: new Date(59_000),
      window: 1,
    });
    expect(step).toBeNull();
  });
});

describe('findMatchingTimeStep', () => {
  const secret = generateTotpSecret();
  const settings = DEFAULT_TOTP_SETTINGS;
  const step = 56_789_012;
  const stepStart = new Date(step * 30_000);
  const stepEnd = new Date(step * 30_000 + 29_999);
  const match = (code: string, now: Date, window = 1) => findMatchingTimeStep({ secret, code, settings, now, window });

  it('returns the current step for the current code', () => {
    expect(match(codeAtStep(secret, step), stepStart)).toBe(step);
    expect(match(codeAtStep(secret, step), stepEnd)).toBe(step);
  });

  it('accepts the previous and next step with window 1, at both edges of the current step', () => {
    for (const now of [stepStart, stepEnd]) {
      expect(match(codeAtStep(secret, step - 1), now)).toBe(step - 1);
      expect(match(codeAtStep(secret, step + 1), now)).toBe(step + 1);
    }
  });

  it('rejects codes two steps away with window 1, at both edges of the current step', () => {
    for (const now of [stepStart, stepEnd]) {
      expect(match(codeAtStep(secret, step - 2), now)).toBeNull();
      expect(match(codeAtStep(secret, step + 2), now)).toBeNull();
    }
  });

  it('moves the window with the clock: one millisecond later the oldest step falls out', () => {
    const previous = codeAtStep(secret, step - 1);
    expect(match(previous, stepEnd)).toBe(step - 1);
    expect(match(previous, new Date(stepEnd.getTime() + 1))).toBeNull();
  });

  it('accepts only the current step with window 0', () => {
    expect(match(codeAtStep(secret, step), stepStart, 0)).toBe(step);
    expect(match(codeAtStep(secret, step - 1), stepStart, 0)).toBeNull();
    expect(match(codeAtStep(secret, step + 1), stepStart, 0)).toBeNull();
  });

  it('returns the same step for a replayed code, so the caller can refuse it', () => {
    const code = codeAtStep(secret, step);
    expect(match(code, stepStart)).toBe(step);
    expect(match(code, new Date(stepStart.getTime() + 30_000))).toBe(step);
  });

  it('reads a secret given as a Node Buffer inside a larger pool (as decryption returns it)', () => {
    const pooled = Buffer.concat([Buffer.from('bytes before the secret'), Buffer.from(secret), Buffer.from('bytes after')]);
    const view = pooled.subarray(23, 23 + secret.length);
    expect(findMatchingTimeStep({ secret: view, code: codeAtStep(secret, step), settings, now: stepStart, window: 1 })).toBe(step);
  });

  it('rejects a code made with another secret', () => {
    expect(match(codeAtStep(generateTotpSecret(), step), stepStart)).toBeNull();
  });

  it('honours 7 and 8 digits and a 60-second period', () => {
    for (const custom of [
      { algorithm: 'SHA256', digits: 7, period: 60 },
      { algorithm: 'SHA512', digits: 8, period: 60 },
    ] as const) {
      const now = new Date(step * 60_000);
      const code = codeAtStep(secret, step, custom);
      expect(code).toHaveLength(custom.digits);
      expect(findMatchingTimeStep({ secret, code, settings: custom, now, window: 1 })).toBe(step);
    }
  });

  it('accepts a code typed with spaces', () => {
    const code = codeAtStep(secret, step);
    expect(match(`${code.slice(0, 3)} ${code.slice(3)}`, stepStart)).toBe(step);
    expect(match(` ${code} `, stepStart)).toBe(step);
  });

  it.each([
    ['an empty code', ''],
    ['only spaces', '      '],
    ['too few digits', '12345'],
    ['too many digits', '1234567'],
    ['letters', '12345a'],
    ['a sign', '+12345'],
    ['dashes', '123-456'],
    ['a tab', '123\t456'],
    ['non-ASCII digits', '１２３４５６'],
    ['Arabic-Indic digits', '١٢٣٤٥٦'],
    ['a decimal point', '12345.'],
  ])('refuses %s as invalid_code_format before checking it', (_, code) => {
    const error = thrownBy(() => match(code, stepStart));
    expect(error.status).toBe(400);
    expect(error.code).toBe('invalid_code_format');
  });

  it('refuses a 6-digit code when 8 digits are configured', () => {
    const error = thrownBy(() =>
      findMatchingTimeStep({ secret, code: '123456', settings: { ...settings, digits: 8 }, now: stepStart, window: 1 }),
    );
    expect(error.code).toBe('invalid_code_format');
  });
});

describe('secret, key URI and QR code', () => {
  it('generates distinct 160-bit secrets', () => {
    const a = generateTotpSecret();
    expect(a).toBeInstanceOf(Uint8Array);
    expect(a.byteLength).toBe(20);
    expect(Buffer.from(a).equals(Buffer.from(generateTotpSecret()))).toBe(false);
  });

  it('shows the secret as base32 in groups of four', () => {
    expect(formatSecretForDisplay(RFC_SEEDS.SHA1)).toBe('GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ');
  });

  it('builds a key URI carrying the secret, issuer and settings', () => {
    const secret = generateTotpSecret();
    const uri = new URL(
      buildOtpauthUri({
        secret,
        issuer: 'Acme Warta',
        accountName: 'jan@example.com',
        settings: { algorithm: 'SHA256', digits: 8, period: 60 },
      }),
    );
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/Acme Warta:jan@example.com');
    expect(uri.searchParams.get('issuer')).toBe('Acme Warta');
    expect(uri.searchParams.get('secret')).toBe(formatSecretForDisplay(secret).replaceAll(' ', ''));
    expect(uri.searchParams.get('algorithm')).toBe('SHA256');
    expect(uri.searchParams.get('digits')).toBe('8');
    expect(uri.searchParams.get('period')).toBe('60');
  });

  it('builds a key URI that a TOTP parser reads back to the same secret', () => {
    const secret = generateTotpSecret();
    const parsed = URI.parse(
      buildOtpauthUri({ secret, issuer: 'Warta', accountName: 'zażółć@example.pl', settings: DEFAULT_TOTP_SETTINGS }),
    );
    expect(Buffer.from(parsed.secret.bytes).equals(Buffer.from(secret))).toBe(true);
    expect(parsed.issuer).toBe('Warta');
    expect(parsed.label).toBe('zażółć@example.pl');
  });

  it('refuses a colon in the issuer or account name', () => {
    const secret = generateTotpSecret();
    for (const [issuer, accountName] of [
      ['Acme: Login', 'jan'],
      ['Acme', 'a:b'],
    ] as const) {
      const error = thrownBy(() => buildOtpauthUri({ secret, issuer, accountName, settings: DEFAULT_TOTP_SETTINGS }));
      expect(error.code).toBe('invalid_totp_label');
    }
  });

  it('renders the key URI as a self-contained SVG QR code that a reader decodes back to the URI', () => {
    const text = buildOtpauthUri({
      secret: generateTotpSecret(),
      issuer: 'Warta',
      accountName: 'jan.kowalski@example.com',
      settings: DEFAULT_TOTP_SETTINGS,
    });
    const svg = renderQrSvg(text);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).not.toMatch(/href|<image|url\(/);
    expect(svg).toContain('shape-rendering="crispEdges"');
    const drawn = modulesOfSvg(svg);
    // Level M: this 134-byte URI needs version 8 (version 7 holds 122 bytes at M; at level L it holds 154).
    expect(drawn.size).toBe(8 * 4 + 17);
    expect(new TextDecoder().decode(readQr(drawn)!)).toBe(text);
  });

  it('refuses an issuer and account name too long for any QR code, and takes the longest e-mail address', () => {
    const secret = generateTotpSecret();
    const longestEmail = `${'a'.repeat(64)}@${'b'.repeat(185)}.com`;
    expect(longestEmail).toHaveLength(254);
    const uri = buildOtpauthUri({ secret, issuer: 'W'.repeat(64), accountName: longestEmail, settings: { algorithm: 'SHA512', digits: 8, period: 300 } });
    expect(new TextDecoder().decode(readQr(modulesOfSvg(renderQrSvg(uri)))!)).toBe(uri);
    const error = thrownBy(() => buildOtpauthUri({ secret, issuer: '€'.repeat(300), accountName: longestEmail, settings: DEFAULT_TOTP_SETTINGS }));
    expect(error.code).toBe('invalid_totp_label');
  });
});

describe('interoperability with oathtool (OATH Toolkit)', () => {
  // An independent implementation to check against. `npm test` skips these tests,
  // saying why, where oathtool is not installed; .ci/run installs it, so in CI
  // (CI=true) a missing oathtool fails them instead.
  const oathtoolMissing = process.env.CI !== 'true' && spawnSync('oathtool', ['--version']).error !== undefined;
  const missingReason = 'oathtool is not on PATH: install it (Debian: apt-get install -y oathtool) to run the interoperability tests';
  if (oathtoolMissing) console.warn(`skipping: ${missingReason}`);
  function oathtool(args: string[]): string {
    return execFileSync('oathtool', args, { encoding: 'utf8' }).trim();
  }

  const secret = generateTotpSecret();
  const base32 = formatSecretForDisplay(secret);
  const time = 1_700_000_015;

  it.for([
    ['--totp', { algorithm: 'SHA1', digits: 6, period: 30 }],
    ['--totp=sha256', { algorithm: 'SHA256', digits: 6, period: 30 }],
    ['--totp=sha512', { algorithm: 'SHA512', digits: 8, period: 30 }],
    ['--totp=sha256', { algorithm: 'SHA256', digits: 8, period: 60 }],
  ] as const)('accepts codes from oathtool %s with %o', ([mode, settings], { skip }) => {
    skip(oathtoolMissing, missingReason);
    const code = oathtool([mode, '--base32', `--digits=${settings.digits}`, `--time-step-size=${settings.period}s`, `--now=@${time}`, base32]);
    const step = findMatchingTimeStep({ secret, code, settings, now: new Date(time * 1000), window: 0 });
    expect(step).toBe(Math.floor(time / settings.period));
  });

  it('accepts each of the next codes oathtool lists, at the step it was made for', ({ skip }) => {
    skip(oathtoolMissing, missingReason);
    const codes = oathtool(['--totp', '--base32', '--window=2', `--now=@${time}`, base32]).split('\n');
    expect(codes).toHaveLength(3);
    const current = Math.floor(time / 30);
    codes.forEach((code, offset) => {
      const now = new Date((current + offset) * 30_000);
      expect(findMatchingTimeStep({ secret, code, settings: DEFAULT_TOTP_SETTINGS, now, window: 0 })).toBe(current + offset);
    });
  });

  it('accepts an oathtool code made for the current time', ({ skip }) => {
    skip(oathtoolMissing, missingReason);
    const code = oathtool(['--totp', '--base32', base32]);
    expect(findMatchingTimeStep({ secret, code, settings: DEFAULT_TOTP_SETTINGS, now: new Date(), window: 1 })).not.toBeNull();
  });
});
