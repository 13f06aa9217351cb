import { existsSync, readFileSync } from 'node:fs';
import { WartaError } from '../errors.js';

/**
 * Password rules of NIST SP 800-63B-4 section 3.1.1.2: a minimum length, a blocklist of common and
 * context-specific words, and nothing else (composition rules are forbidden). Lengths count Unicode
 * code points of the NFKC-normalised password.
 */

/** Far above the 64 that NIST asks to permit; only there to bound the work an attacker can ask for. */
export const MAX_PASSWORD_LENGTH = 1024;
export const MIN_LENGTH_SINGLE_FACTOR = 15;
export const MIN_LENGTH_WITH_SECOND_FACTOR = 8;

/** Context words shorter than this would refuse too many unrelated passwords. */
const MIN_CONTEXT_WORD_LENGTH = 3;
const SERVICE_NAME = 'warta';

export interface Blocklist extends Iterable<string> {
  has(word: string): boolean;
}

export type PasswordPolicy = {
  minLength: number;
  /** Usernames and e-mail addresses of the account; e-mail addresses count by their local part. */
  context: string[];
  blocklist: Blocklist;
};

export function minimumPasswordLength({ secondFactorRequired }: { secondFactorRequired: boolean }): number {
  return secondFactorRequired ? MIN_LENGTH_WITH_SECOND_FACTOR : MIN_LENGTH_SINGLE_FACTOR;
}

/**
 * A blocklist file (one password a line, `#` starts a comment line), read on first use:
 * most starts never set a password, and reading it is a tenth of a second.
 */
export function loadBlocklist(path: string | URL = new URL('./blocklist.txt', import.meta.url)): Blocklist {
  // A build that lost the file is found at start-up, not by the first person who sets a password.
  if (!existsSync(path)) throw new Error(`the password blocklist is missing: ${String(path)}`);
  let entries: Set<string> | undefined;
  const read = () => {
    if (entries) return entries;
    entries = new Set<string>();
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      const entry = line.trim();
      if (entry === '' || entry.startsWith('#')) continue;
      entries.add(foldCase(entry));
    }
    return entries;
  };
  return { has: (word) => read().has(word), [Symbol.iterator]: () => read()[Symbol.iterator]() };
}

/**
 * Refuses over-long input before doing any work on it, then returns the NFKC form that is hashed,
 * so the same password typed on different keyboards or input methods verifies.
 */
export function normalizePassword(password: string): string {
  if (exceedsCodePoints(password, MAX_PASSWORD_LENGTH)) {
    throw new WartaError(400, 'password_too_long', `Use at most ${MAX_PASSWORD_LENGTH} characters.`);
  }
  return password.normalize('NFKC');
}

export function checkPasswordPolicy(password: string, { minLength, context, blocklist }: PasswordPolicy): void {
  const normalized = normalizePassword(password);
  if (codePointLength(normalized) < minLength) {
    throw new WartaError(400, 'password_too_short', `Use at least ${minLength} characters.`);
  }
  const folded = foldCase(normalized);
  if (blocklist.has(folded)) {
    throw new WartaError(400, 'password_blocklisted', 'This password is too common. Choose another one.');
  }
  if (contextWords(context).some((word) => folded.includes(word))) {
    throw new WartaError(
      400,
      'password_contains_context',
      'The password cannot contain your username, your e-mail address or the name of this service.',
    );
  }
}

/** The service name, each username and e-mail local part, and the words they are made of. */
function contextWords(context: string[]): string[] {
  const words = new Set([SERVICE_NAME]);
  for (const entry of context) {
    const folded = foldCase(entry.trim());
    const at = folded.lastIndexOf('@');
    const name = at === -1 ? folded : folded.slice(0, at);
    words.add(name);
    // "jan.kowalski" also refuses "Kowalski1984…": people build passwords from parts of their name.
    for (const part of name.split(/[^\p{L}\p{N}]+/u)) words.add(part);
  }
  return [...words].filter((word) => codePointLength(word) >= MIN_CONTEXT_WORD_LENGTH);
}

function foldCase(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

function codePointLength(text: string): number {
  return [...text].length;
}

/** Stops counting at `limit + 1`, so a megabyte of input costs no more than a kilobyte. */
function exceedsCodePoints(text: string, limit: number): boolean {
  if (text.length <= limit) return false;
  let count = 0;
  for (const _ of text) {
    if (++count > limit) return true;
  }
  return false;
}
