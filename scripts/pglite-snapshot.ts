// `npm run snapshot` (run by `npm ci` through `prepare`): the migrated embedded database a
// first start loads instead of running initdb and every migration (src/db/pglite-snapshot.ts).
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeMigratedDataDir, snapshotFiles, snapshotManifest } from '../src/db/pglite.js';

const started = performance.now();
const snapshot = fileURLToPath(snapshotFiles.snapshot);
const manifest = fileURLToPath(snapshotFiles.manifest);
mkdirSync(path.dirname(snapshot), { recursive: true });
// Written aside and renamed, manifest last: a half-made snapshot is never taken for a whole one.
writeFileSync(`${snapshot}.partial`, await makeMigratedDataDir('gzip'));
renameSync(`${snapshot}.partial`, snapshot);
writeFileSync(`${manifest}.partial`, `${JSON.stringify(snapshotManifest(), null, 2)}\n`);
renameSync(`${manifest}.partial`, manifest);
process.stdout.write(`warta: made the embedded database's first-start snapshot (${path.relative(process.cwd(), snapshot)}) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
