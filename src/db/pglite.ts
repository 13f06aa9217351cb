import { existsSync, mkdirSync, openAsBlob, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect } from 'kysely';
import { migrations } from '../../migrations/index.js';
import { migrateToLatest } from './migrate.js';

/**
 * A new embedded database starts from a data directory made once when Warta is
 * installed (`npm ci` runs `npm run snapshot`) instead of running initdb and every
 * migration: seconds of CPU saved on the first start. It holds the schema only:
 * instance secrets and signing keys are made at the first start under that
 * instance's own master key. A missing or outdated snapshot only costs time.
 */
const SNAPSHOT = new URL('./pglite-migrated.tar.gz', import.meta.url);
const MANIFEST = new URL('./pglite-migrated.json', import.meta.url);

interface Manifest {
  pglite: string | undefined;
  migrations: string[];
}

/** The embedded database's settings, on every start and in the snapshot. */
export const PGLITE_SETTINGS = [
  // PGlite zeroes its whole buffer pool when it starts (128 MB by default: most of its start-up
  // time and memory); Warta's working set is a few megabytes.
  'shared_buffers=8MB',
];

export function pgliteStartParams(pgliteClass: typeof PGlite): string[] {
  return [...pgliteClass.defaultStartParams, ...PGLITE_SETTINGS.flatMap((setting) => ['-c', setting])];
}

/**
 * PGlite, loaded only when the embedded database is used: a production image built for
 * PostgreSQL leaves the package out (docker/Dockerfile), and a PostgreSQL start never loads it.
 */
export async function loadPglite(): Promise<typeof PGlite> {
  try {
    return (await import('@electric-sql/pglite')).PGlite;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new EmbeddedDatabaseNotInstalledError();
  }
}

export class EmbeddedDatabaseNotInstalledError extends Error {
  constructor() {
    super('the embedded database (PGlite) is not installed here: set DATABASE_URL to a PostgreSQL server, or install Warta with its optional dependencies (the Docker image: --build-arg WITH_EMBEDDED_DATABASE=1)');
    this.name = 'EmbeddedDatabaseNotInstalledError';
  }
}

/** A migrated data directory, as a gzipped tar `PGlite.create({ loadDataDir })` takes. */
export async function makeMigratedDataDir(compression: 'gzip' | 'none'): Promise<Uint8Array> {
  const PGliteClass = await loadPglite();
  const pglite = await PGliteClass.create({ startParams: pgliteStartParams(PGliteClass) });
  const db = new Kysely({ dialect: new PGliteDialect({ pglite }) });
  try {
    await migrateToLatest(db);
    // Flushed now, so no copy replays the migrations' WAL when it starts.
    await pglite.exec('checkpoint');
    return new Uint8Array(await (await pglite.dumpDataDir(compression)).arrayBuffer());
  } finally {
    await db.destroy();
    if (!pglite.closed) await pglite.close();
  }
}

export function snapshotManifest(): Manifest {
  return { pglite: pgliteVersion(), migrations: Object.keys(migrations).sort() };
}

/**
 * The installed snapshot, if it was made by this PGlite and holds no migration this code
 * does not know (migrations added since are applied after it is loaded).
 */
export async function installedPgliteSnapshot(): Promise<Blob | undefined> {
  if (!existsSync(SNAPSHOT) || !existsSync(MANIFEST)) return undefined;
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(MANIFEST, 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
  const known = new Set(snapshotManifest().migrations);
  if (manifest.pglite === undefined || manifest.pglite !== pgliteVersion() || !manifest.migrations.every((name) => known.has(name))) return undefined;
  // Backed by the file, read only if the folder holds no database yet: a restart does not read its 5 MB.
  return openAsBlob(SNAPSHOT, { type: 'application/gzip' });
}

export const snapshotFiles = { snapshot: SNAPSHOT, manifest: MANIFEST };

function pgliteVersion(): string | undefined {
  try {
    // The package's exports hide its package.json; its entry point sits in dist/ beside it.
    const pkg = new URL('../package.json', import.meta.resolve('@electric-sql/pglite'));
    return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
  } catch {
    return undefined;
  }
}

/**
 * Writes a data directory archive (`dumpDataDir()`: a tar, gzipped or not) into `target`,
 * which must be empty, with Node's own file calls: PGlite's `loadDataDir` writes the same
 * thousand files through its emulated file system, a second or more of a first start.
 * Extracted beside the target and renamed into place, so a start killed half-way leaves
 * no half-made database behind.
 */
export async function extractDataDir(archive: Blob, target: string): Promise<void> {
  let tar = new Uint8Array(await archive.arrayBuffer());
  if (tar[0] === 0x1f && tar[1] === 0x8b) tar = gunzipSync(tar);
  const staging = `${target}.loading`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { mode: 0o700 });
  const text = (from: number, length: number) => {
    const field = tar.subarray(from, from + length);
    const end = field.indexOf(0);
    return Buffer.from(end < 0 ? field : field.subarray(0, end)).toString('utf8');
  };
  for (let offset = 0; offset + 512 <= tar.length; ) {
    const name = text(offset, 100);
    if (name === '') break;
    const prefix = text(offset + 345, 155);
    const size = Number.parseInt(text(offset + 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(tar[offset + 156] ?? 0);
    const relative = path.normalize(`${prefix ? `${prefix}/` : ''}${name}`).replace(/^\/+/, '');
    if (relative.startsWith('..') || path.isAbsolute(relative)) throw new Error(`the database snapshot names a file outside its folder: ${relative}`);
    const destination = path.join(staging, relative);
    const body = offset + 512;
    if (type === '5') mkdirSync(destination, { recursive: true, mode: 0o700 });
    else if (type === '0' || type === '\0') {
      mkdirSync(path.dirname(destination), { recursive: true, mode: 0o700 });
      writeFileSync(destination, tar.subarray(body, body + size), { mode: 0o600 });
    }
    offset = body + Math.ceil(size / 512) * 512;
  }
  if (existsSync(target)) {
    if (readdirSync(target).length) throw new Error(`${target} is not empty: not loading the database snapshot over it`);
    rmSync(target, { recursive: true });
  }
  renameSync(staging, target);
}
