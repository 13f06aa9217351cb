// `npm ci` runs this (the `prepare` script). With development dependencies installed it
// makes the embedded database's first-start snapshot; an install without them (a production
// image's `npm ci --omit=dev`) skips it: Warta then runs initdb on a first start, slower but the same.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

try {
  createRequire(import.meta.url).resolve('tsx');
} catch {
  process.stdout.write('warta: tsx is not installed, so no first-start snapshot was made (npm run snapshot makes one)\n');
  process.exit(0);
}
const made = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/pglite-snapshot.ts'], { stdio: 'inherit', cwd: new URL('..', import.meta.url) });
process.exit(made.status ?? 1);
