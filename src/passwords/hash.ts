import * as argon2 from 'argon2';
import { performance } from 'node:perf_hooks';
import { normalizePassword } from './policy.js';

export type Argon2Params = {
  memoryKiB: number;
  timeCost: number;
  parallelism: number;
};

/** OWASP Password Storage Cheat Sheet's minimum for argon2id: 19 MiB, 2 iterations, 1 lane. */
export const DEFAULT_ARGON2_PARAMS: Argon2Params = { memoryKiB: 19456, timeCost: 2, parallelism: 1 };

const ARGON2_VERSION = 0x13;

/** Hashes the NFKC form; throws `password_too_long` before any work. Returns a PHC string. */
export async function hashPassword(password: string, params: Argon2Params): Promise<string> {
  return argon2.hash(normalizePassword(password), {
    type: argon2.argon2id,
    memoryCost: params.memoryKiB,
    timeCost: params.timeCost,
    parallelism: params.parallelism,
  });
}

/** The parameters come from the stored hash, so hashes made under older settings still verify. */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  return argon2.verify(hash, normalizePassword(password));
}

/**
 * True when the stored hash is weaker than `params` (or not argon2id at all): rehash it on the
 * next successful login. Never true just because the configuration was lowered.
 */
export function needsRehash(hash: string, params: Argon2Params): boolean {
  const stored = parseArgon2idHash(hash);
  return (
    stored === undefined ||
    stored.version < ARGON2_VERSION ||
    stored.memoryKiB < params.memoryKiB ||
    stored.timeCost < params.timeCost ||
    stored.parallelism < params.parallelism
  );
}

/** Mean wall-clock milliseconds per hash, after one warm-up; for choosing parameters on real hardware. */
export async function measureHashTime(params: Argon2Params, iterations: number): Promise<number> {
  await hashPassword('warm-up password', params);
  const start = performance.now();
  for (let i = 0; i < iterations; i++) await hashPassword(`benchmark password ${i}`, params);
  return (performance.now() - start) / iterations;
}

/** `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`; the parameter order is not fixed. */
function parseArgon2idHash(hash: string): (Argon2Params & { version: number }) | undefined {
  const match = /^\$argon2id\$(?:v=(\d+)\$)?([^$]+)\$[^$]+\$[^$]+$/.exec(hash);
  if (match === null) return undefined;
  const fields = new Map(
    (match[2] ?? '').split(',').map((pair) => {
      const [key = '', value = ''] = pair.split('=');
      return [key, /^\d+$/.test(value) ? Number(value) : Number.NaN] as const;
    }),
  );
  const memoryKiB = fields.get('m');
  const timeCost = fields.get('t');
  const parallelism = fields.get('p');
  if (!isCount(memoryKiB) || !isCount(timeCost) || !isCount(parallelism)) return undefined;
  // PHC strings without "v=" are Argon2 1.0 (0x10).
  return { version: match[1] === undefined ? 0x10 : Number(match[1]), memoryKiB, timeCost, parallelism };
}

const isCount = (value: number | undefined): value is number => value !== undefined && Number.isSafeInteger(value);
