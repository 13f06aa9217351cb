import { readFile } from 'node:fs/promises';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { type FidoMetadata, loadMetadataFromBlob, loadMetadataFromDirectory } from './metadata.js';

/**
 * The FIDO metadata the operator installed (WARTA_FIDO_MDS_FILE + WARTA_FIDO_ROOT_CERT_FILE,
 * or WARTA_FIDO_MDS_DIR), loaded once at start-up; undefined when none is configured.
 * A configured file that cannot be read or verified stops start-up: running with no
 * trust data while the operator believes there is some would fail open.
 */
export async function loadConfiguredMetadata(source: Config['webauthn']['fidoMetadata'], now: Date, log: Logger): Promise<FidoMetadata | undefined> {
  if (!source) return undefined;
  if ('dir' in source) {
    const metadata = await loadMetadataFromDirectory(source.dir);
    log.info({ dir: source.dir, statements: metadata.entries.size }, 'FIDO metadata statements loaded');
    return metadata;
  }
  const [blob, trustedRootPem] = await Promise.all([readConfiguredFile(source.blobFile, 'WARTA_FIDO_MDS_FILE'), readConfiguredFile(source.rootCertFile, 'WARTA_FIDO_ROOT_CERT_FILE')]);
  const metadata = await loadMetadataFromBlob(blob, { trustedRootPem, now });
  if (metadata.stale) log.warn({ file: source.blobFile, nextUpdate: metadata.nextUpdate?.toISOString() }, 'the FIDO metadata BLOB is past its nextUpdate: download a newer one');
  log.info({ file: source.blobFile, serial: metadata.serial, statements: metadata.entries.size }, 'FIDO metadata BLOB loaded');
  return metadata;
}

async function readConfiguredFile(file: string, variable: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new Error(`${variable}: cannot read "${file}": ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
}
