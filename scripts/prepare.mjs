// `npm ci` runs this (the `prepare` script). With development dependencies installed it makes
// the embedded database's first-start snapshot (`npm run snapshot`) and then the compiled build
// (`npm run build`, which carries the snapshot along), so the first `npm start` is a fast one.
// An install without them (a production image's `npm ci --omit=dev`) skips both: Warta then runs
// initdb on a first start, slower but the same.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
try {
  require.resolve('tsx');
  require.resolve('typescript');
  require.resolve('esbuild');
} catch {
  process.stdout.write('warta: development dependencies are not installed, so no first-start snapshot or build was made (npm run snapshot, npm run build)\n');
  process.exit(0);
}
const cwd = new URL('..', import.meta.url);
const steps = [
  [process.execPath, ['--import', 'tsx', 'scripts/pglite-snapshot.ts']],
  [process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json']],
  [process.execPath, ['scripts/copy-assets.mjs']],
  [process.execPath, ['scripts/bundle.mjs']],
];
for (const [command, args] of steps) {
  const step = spawnSync(command, args, { stdio: 'inherit', cwd });
  if (step.status !== 0) process.exit(step.status ?? 1);
}
