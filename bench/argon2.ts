/**
 * Time per argon2id hash at the configured parameters (WARTA_ARGON2_* or the
 * OWASP minimum), and at a few stronger settings for comparison. Run on the
 * production hardware before raising the parameters:
 *
 *   npx tsx bench/argon2.ts [iterations]
 */
import { availableParallelism } from 'node:os';
import { loadConfig } from '../src/config.js';
import { type Argon2Params, measureHashTime } from '../src/passwords/hash.js';

const iterations = Number(process.argv[2] ?? 20);
const configured = loadConfig({ ...process.env, NODE_ENV: 'development' }).passwords.argon2;
const candidates: [string, Argon2Params][] = [
  ['configured', configured],
  ['OWASP alt. m=46 MiB t=1', { memoryKiB: 47104, timeCost: 1, parallelism: 1 }],
  ['m=64 MiB t=3 p=1', { memoryKiB: 65536, timeCost: 3, parallelism: 1 }],
];

console.log(`argon2id, ${iterations} hashes each, ${availableParallelism()} CPUs, Node ${process.version}`);
for (const [name, params] of candidates) {
  const ms = await measureHashTime(params, iterations);
  console.log(`${name.padEnd(26)} m=${params.memoryKiB} t=${params.timeCost} p=${params.parallelism}: ${ms.toFixed(1)} ms/hash`);
}
