import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WartaError } from '../../src/errors.js';
import {
  MAX_PASSWORD_LENGTH,
  type PasswordPolicy,
  checkPasswordPolicy,
  loadBlocklist,
  minimumPasswordLength,
  normalizePassword,
} from '../../src/passwords/policy.js';

const blocklist = loadBlocklist();
const singleFactor: PasswordPolicy = { minLength: minimumPasswordLength({ secondFactorRequired: false }), context: [], blocklist };
const withSecondFactor: PasswordPolicy = { minLength: minimumPasswordLength({ secondFactorRequired: true }), context: [], blocklist };

function refusal(password: string, policy: PasswordPolicy): string | undefined {
  try {
    checkPasswordPolicy(password, policy);
    return undefined;
  } catch (error) {
    if (!(error instanceof WartaError)) throw error;
    expect(error.status).toBe(400);
    return error.code;
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('minimum length (NIST SP 800-63B-4 3.1.1.2)', () => {
  it('is 15 when the password is the only factor and 8 when a second factor is required', () => {
    expect(singleFactor.minLength).toBe(15);
    expect(withSecondFactor.minLength).toBe(8);
  });

  it('refuses 14 characters as the only factor and accepts 15', () => {
    expect(refusal('tangerine-lamp', singleFactor)).toBe('password_too_short');
    expect(refusal('tangerine-lamps', singleFactor)).toBeUndefined();
  });

  it('refuses 7 characters with a second factor and accepts 8', () => {
    expect(refusal('qu7bxzk', withSecondFactor)).toBe('password_too_short');
    expect(refusal('qu7bxzkv', withSecondFactor)).toBeUndefined();
  });

  it('counts Unicode code points, not UTF-16 units', () => {
    expect(refusal('🦊🌵🎻🧭🪁🦊🌵', withSecondFactor)).toBe('password_too_short');
    expect(refusal('🦊🌵🎻🧭🪁🦊🌵🎻', withSecondFactor)).toBeUndefined();
  });

  it('counts after NFKC normalisation, so combining sequences count once', () => {
    const decomposed = 'e\u0301'.repeat(8);
    expect(decomposed.length).toBe(16);
    expect(refusal(decomposed, singleFactor)).toBe('password_too_short');
  });
});

describe('maximum length', () => {
  it('accepts 1024 code points, even when they take 2048 UTF-16 units', () => {
    expect(refusal('x'.repeat(MAX_PASSWORD_LENGTH), singleFactor)).toBeUndefined();
    expect(refusal('🦊'.repeat(MAX_PASSWORD_LENGTH), singleFactor)).toBeUndefined();
  });

  it('refuses 1025 code points as password_too_long', () => {
    expect(refusal('x'.repeat(MAX_PASSWORD_LENGTH + 1), singleFactor)).toBe('password_too_long');
    expect(refusal('🦊'.repeat(MAX_PASSWORD_LENGTH + 1), singleFactor)).toBe('password_too_long');
  });

  it('refuses an oversized password before normalising it', () => {
    const normalize = vi.spyOn(String.prototype, 'normalize');
    expect(() => normalizePassword('x'.repeat(5_000_000))).toThrow(WartaError);
    expect(normalize).not.toHaveBeenCalled();
  });

  it('is checked before the other rules', () => {
    expect(refusal('password'.repeat(200), singleFactor)).toBe('password_too_long');
  });
});

describe('no composition rules', () => {
  it.each(['correct horse battery staple', 'ALLCAPSWITHOUTDIGITS', '492817365019283746', 'zażółć gęślą jaźń!!'])(
    'accepts %j',
    (password) => {
      expect(refusal(password, singleFactor)).toBeUndefined();
    },
  );
});

describe('blocklist', () => {
  it('ships tens of thousands of common passwords in a file under 1 MB', () => {
    expect([...blocklist].length).toBeGreaterThan(40_000);
    expect(statSync(new URL('../../src/passwords/blocklist.txt', import.meta.url)).size).toBeLessThan(1_000_000);
    for (const common of ['123456', 'password', 'qwerty123', 'iloveyou', 'p@ssw0rd']) expect(blocklist.has(common)).toBe(true);
  });

  it('refuses a listed password', () => {
    expect(refusal('password', withSecondFactor)).toBe('password_blocklisted');
    expect(refusal('qwerty123', withSecondFactor)).toBe('password_blocklisted');
  });

  it('ignores case', () => {
    expect(refusal('PassWord1', withSecondFactor)).toBe('password_blocklisted');
  });

  it('compares the NFKC form, so full-width letters do not slip past', () => {
    expect(refusal('ｐａｓｓｗｏｒｄ１', withSecondFactor)).toBe('password_blocklisted');
  });

  it('refuses the whole password only, not passwords that contain a listed one', () => {
    expect(refusal('password-gardening-tuesday', singleFactor)).toBeUndefined();
  });

  it('is loaded from a file, skipping comments and blank lines and folding case', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'warta-blocklist-')), 'blocklist.txt');
    writeFileSync(path, '# source: test\n\nHunter2\r\n  Tr0ub4dor&3  \n#notapassword\n');
    expect([...loadBlocklist(path)]).toEqual(['hunter2', 'tr0ub4dor&3']);
  });
});

describe('context-specific words', () => {
  const policy = (context: string[]): PasswordPolicy => ({ ...singleFactor, context });

  it('refuses the service name in any case or width', () => {
    expect(refusal('my-warta-login-2024', singleFactor)).toBe('password_contains_context');
    expect(refusal('MyWARTAloginPlease', singleFactor)).toBe('password_contains_context');
    expect(refusal('my ｗａｒｔａ login please', singleFactor)).toBe('password_contains_context');
  });

  it('refuses a password containing the username', () => {
    expect(refusal('GreatKowalski1984!', policy(['kowalski']))).toBe('password_contains_context');
  });

  it('refuses a password containing the e-mail local part but not only the domain', () => {
    const context = policy(['anna.nowak@example.com']);
    expect(refusal('anna.nowak-summer-garden', context)).toBe('password_contains_context');
    expect(refusal('my example.com summer garden', context)).toBeUndefined();
  });

  it('refuses a password containing one part of a dotted name', () => {
    expect(refusal('Nowak family summer garden', policy(['anna.nowak@example.com']))).toBe('password_contains_context');
  });

  it('ignores context words shorter than three characters', () => {
    expect(refusal('always take the long road', policy(['al', 'l.t@example.com']))).toBeUndefined();
  });

  it('accepts a password unrelated to the context', () => {
    expect(refusal('tangerine lamps on the pier', policy(['kowalski', 'jan.kowalski@example.com']))).toBeUndefined();
  });
});
