/**
 * `warta mds import`: an operator installs a FIDO Metadata Service BLOB they
 * downloaded elsewhere (Warta never fetches it). The BLOB must chain to the
 * configured FIDO root and carry a higher serial (`no`) than the installed one:
 * an old BLOB, signed properly, could bring back an authenticator model FIDO has
 * since marked compromised. It replaces WARTA_FIDO_MDS_FILE by rename (a reader
 * sees the old file or the new, never half of one) and is audited with its serial.
 * A refused import changes nothing. Running instances read it at their next start.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { decodeJwt } from 'jose';
import { sql } from 'kysely';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import type { Deps } from '../deps.js';
import { WartaError } from '../errors.js';
import { loadMetadataFromBlob } from './metadata.js';

export interface MetadataImport {
  serial: number;
  previous_serial: number | null;
  next_update: string;
  statements: number;
  /** Past its nextUpdate already: installed all the same (it is newer than what was there), with a warning. */
  stale: boolean;
  file: string;
}

// Arbitrary constant naming "FIDO metadata import" for pg_advisory_xact_lock: two imports compare serials one after the other.
const IMPORT_LOCK = 7_114_000_015;

/** A BLOB is a few MiB today; anything far larger is not one. */
const MAX_BLOB_BYTES = 64 * 1024 * 1024;

export async function importFidoMetadata(deps: Pick<Deps, 'db' | 'clock' | 'auditEntryKey' | 'config'>, context: AuditContext, input: { blob: string }): Promise<MetadataImport> {
  const source = deps.config.webauthn.fidoMetadata;
  if (!source || !('blobFile' in source))
    throw new WartaError(400, 'mds_not_configured', 'set WARTA_FIDO_MDS_FILE and WARTA_FIDO_ROOT_CERT_FILE first: the import replaces that file and checks the BLOB against that root');
  if (input.blob.length > MAX_BLOB_BYTES) throw new WartaError(400, 'mds_malformed', `the file is larger than ${MAX_BLOB_BYTES} bytes: not a metadata BLOB`);
  const trustedRootPem = await readFile(source.rootCertFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new WartaError(400, 'mds_not_configured', `WARTA_FIDO_ROOT_CERT_FILE: cannot read "${source.rootCertFile}": ${error.code ?? error.message}`);
  });
  const now = deps.clock.now();
  const metadata = await loadMetadataFromBlob(input.blob, { trustedRootPem, now }).catch((error: unknown) => {
    if (error instanceof WartaError && error.code === 'fido_metadata_untrusted') throw new WartaError(400, 'mds_untrusted', error.description);
    if (error instanceof WartaError) throw new WartaError(400, 'mds_malformed', error.description);
    throw error;
  });
  const serial = metadata.serial!;
  if (!Number.isSafeInteger(serial) || serial < 0) throw new WartaError(400, 'mds_malformed', `the BLOB's serial number \`no\` must be a whole number, got ${serial}`);

  const target = source.blobFile;
  const staged = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.importing`);
  try {
    await writeDurably(staged, input.blob);
    return await deps.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${IMPORT_LOCK})`.execute(trx);
      const previous = await installedSerial(target);
      if (previous !== null && serial <= previous)
        throw new WartaError(409, 'mds_rollback', `the BLOB's serial ${serial} is not newer than the installed ${previous}: refusing to go back (or to install the same BLOB twice)`);
      const result: MetadataImport = {
        serial,
        previous_serial: previous,
        next_update: metadata.nextUpdate!.toISOString(),
        statements: metadata.entries.size,
        stale: metadata.stale,
        file: target,
      };
      await appendAudit(trx, deps, context, {
        action: 'fido_metadata.imported',
        subject: `fido_metadata:${serial}`,
        details: { serial, previous_serial: previous, next_update: result.next_update, statements: result.statements, stale: result.stale },
      });
      // Last, so a failure before it leaves the installed file and the audit log as they were.
      await rename(staged, target);
      return result;
    });
  } finally {
    await unlink(staged).catch(() => {});
  }
}

/**
 * The serial of the installed BLOB, read without verifying it (the rollback check
 * only needs the number, and a root changed since must not block an update);
 * null when there is none, or it is unreadable (the server would not start on it).
 */
async function installedSerial(file: string): Promise<number | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return null;
  }
  try {
    const { no } = decodeJwt(text.trim());
    return typeof no === 'number' ? no : null;
  } catch {
    return null;
  }
}

async function writeDurably(file: string, text: string): Promise<void> {
  const handle = await open(file, 'wx', 0o644);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}
