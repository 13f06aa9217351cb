import { readFile } from 'node:fs/promises';
import { importFidoMetadata, type MetadataImport } from '../../webauthn/metadata-import.js';
import { CliUsageError, defineCommand, stringFlag } from '../command.js';

export const importFidoMetadataCommand = defineCommand<MetadataImport>({
  path: ['mds', 'import'],
  summary: 'install a downloaded FIDO Metadata Service BLOB into WARTA_FIDO_MDS_FILE: it must chain to WARTA_FIDO_ROOT_CERT_FILE and be newer than the installed one',
  flags: {
    file: { type: 'string', file: true, description: 'the FIDO Metadata Service BLOB (a JWT), downloaded elsewhere and carried in: Warta fetches nothing', required: true },
  },
  async run(flags, io) {
    const file = stringFlag(flags, 'file')!;
    const blob = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new CliUsageError(`cannot read ${file}: ${error.code ?? error.message}`);
    });
    const runtime = await io.runtime();
    return importFidoMetadata(runtime, { actor: 'cli' }, { blob });
  },
  format: (r) =>
    [
      `Installed FIDO metadata BLOB ${r.serial} (was ${r.previous_serial ?? 'none'}) into ${r.file}: ${r.statements} FIDO2 statement(s), next update ${r.next_update.slice(0, 10)}.`,
      ...(r.stale ? ['Warning: this BLOB is already past its nextUpdate; download a newer one when you can.'] : []),
      'Restart every Warta instance to use it (each reads the file at start-up).',
    ].join('\n'),
});
