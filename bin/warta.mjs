#!/usr/bin/env node
// `warta` on the production image runs the compiled CLI; in a checkout use `npm run warta -- <command>`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
if (!existsSync(compiled)) {
  process.stderr.write('warta: not built; run `npm run build`, or use `npm run warta -- <command>` in a checkout\n');
  process.exit(1);
}
const { runCliProcess } = await import(compiled);
await runCliProcess(process.argv.slice(2));
