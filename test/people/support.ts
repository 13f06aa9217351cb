/**
 * An instance over real HTTP with one organisation's admins, an officer and
 * members (each enrolled with a passkey over HTTP), and a second organisation
 * with its own admin.
 */
import { randomBytes } from 'node:crypto';
import { createOrganisation } from '../../src/orgs/service.js';
import type { Runtime } from '../../src/runtime.js';
import { incidentServer } from '../incident/support.js';

export async function peopleServer() {
  const base = await incidentServer();
  const { runtime, enroll } = base;
  const organisation = await createOrganisation(runtime, { actor: 'test' }, { name: `Ministry ${randomBytes(3).toString('hex')}` });
  const other = await createOrganisation(runtime, { actor: 'test' }, { name: `Agency ${randomBytes(3).toString('hex')}` });
  const admin = await enroll(organisation.id, 'admin');
  const secondAdmin = await enroll(organisation.id, 'admin');
  const officer = await enroll(organisation.id, 'recovery_officer');
  const otherAdmin = await enroll(other.id, 'admin');
  return { ...base, organisation, other, admin, secondAdmin, officer, otherAdmin };
}

export const cli = (runtime: Runtime) => ({ runtime: async () => runtime, write: () => {} });

export async function auditOf(runtime: Runtime, action: string, subject: string) {
  return runtime.db.selectFrom('audit_log').select(['actor', 'outcome', 'details']).where('action', '=', action).where('subject', '=', subject).orderBy('id').execute();
}

export async function userRow(runtime: Runtime, id: string) {
  return runtime.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}
