import type { CliCommand } from '../command.js';
import { archiveAuditCommand, exportAuditCommand, searchAuditCommand, verifyAuditCommand } from './audit.js';
import { backupCommand, restoreCommand } from './backup.js';
import { setEmailDomainsCommand, waiveOfficerCooldownCommand } from './authority.js';
import { bootstrapCommand, createOrganisationCommand } from './bootstrap.js';
import { assignClientCommand, createClientCommand, deleteClientCommand, listClientsCommand, rotateClientSecretCommand, setClientAdminScopesCommand, setClientScimCommand, updateClientCommand } from './client.js';
import { endOrganisationSessionsCommand, resumeClientCommand, suspendClientCommand } from './incident.js';
import { inviteCommand } from './invite.js';
import { approveChangeRequestCommand, listChangeRequestsCommand, rejectChangeRequestCommand } from './change-requests.js';
import { addGroupMemberCommand, createGroupCommand, defineAttributeCommand, listAttributesCommand, listGroupsCommand, deleteGroupCommand, moveGroupCommand, removeGroupMemberCommand, setAttributeCommand, setAttributeSensitiveCommand, setGroupSensitiveCommand } from './groups.js';
import { listSigningKeysCommand, rotateMasterKeyCommand, rotateSigningKeyCommand } from './keys.js';
import { migrateCommand } from './migrate.js';
import { importFidoMetadataCommand } from './mds.js';
import { setupLinkCommand } from './setup-link.js';
import { setPolicyCommand, showOrganisationCommand } from './organisation.js';
import { disablePersonCommand, enablePersonCommand, exportPersonCommand, listPeopleCommand, offboardPersonCommand, showPersonCommand } from './people.js';
import { approveRoleRequestCommand, listRoleRequestsCommand, setRoleCommand } from './roles.js';
import { addReceiverCommand, listReceiversCommand, removeReceiverCommand } from './receiver.js';
import { exportRecoveryCasesCommand, listRecoveryCasesCommand, recoveryReportCommand } from './recovery.js';

/** Every `warta` command. A capability adds its commands here. */
export const commands: CliCommand<any>[] = [
  migrateCommand,
  bootstrapCommand,
  setupLinkCommand,
  createOrganisationCommand,
  inviteCommand,
  createGroupCommand,
  listGroupsCommand,
  addGroupMemberCommand,
  removeGroupMemberCommand,
  moveGroupCommand,
  setGroupSensitiveCommand,
  deleteGroupCommand,
  defineAttributeCommand,
  listAttributesCommand,
  setAttributeCommand,
  setAttributeSensitiveCommand,
  listChangeRequestsCommand,
  approveChangeRequestCommand,
  rejectChangeRequestCommand,
  rotateSigningKeyCommand,
  listSigningKeysCommand,
  rotateMasterKeyCommand,
  importFidoMetadataCommand,
  verifyAuditCommand,
  searchAuditCommand,
  exportAuditCommand,
  archiveAuditCommand,
  backupCommand,
  restoreCommand,
  createClientCommand,
  listClientsCommand,
  rotateClientSecretCommand,
  deleteClientCommand,
  updateClientCommand,
  setClientAdminScopesCommand,
  setClientScimCommand,
  assignClientCommand,
  addReceiverCommand,
  listReceiversCommand,
  removeReceiverCommand,
  listRecoveryCasesCommand,
  exportRecoveryCasesCommand,
  recoveryReportCommand,
  setEmailDomainsCommand,
  showOrganisationCommand,
  setPolicyCommand,
  waiveOfficerCooldownCommand,
  suspendClientCommand,
  resumeClientCommand,
  endOrganisationSessionsCommand,
  listPeopleCommand,
  showPersonCommand,
  exportPersonCommand,
  disablePersonCommand,
  enablePersonCommand,
  offboardPersonCommand,
  setRoleCommand,
  listRoleRequestsCommand,
  approveRoleRequestCommand,
];
