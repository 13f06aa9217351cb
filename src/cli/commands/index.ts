import type { CliCommand } from '../command.js';
import { exportAuditCommand, verifyAuditCommand } from './audit.js';
import { bootstrapCommand } from './bootstrap.js';
import { inviteCommand } from './invite.js';
import { listSigningKeysCommand, rotateMasterKeyCommand, rotateSigningKeyCommand } from './keys.js';
import { migrateCommand } from './migrate.js';

/** Every `warta` command. A capability adds its commands here. */
export const commands: CliCommand<any>[] = [
  migrateCommand,
  bootstrapCommand,
  inviteCommand,
  rotateSigningKeyCommand,
  listSigningKeysCommand,
  rotateMasterKeyCommand,
  verifyAuditCommand,
  exportAuditCommand,
];
