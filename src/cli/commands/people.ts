import { disablePerson, type DisabledPerson } from '../../people/disable.js';
import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { enablePerson } from '../../people/enable.js';
import { exportPerson, type PersonExport } from '../../people/export.js';
import { listPeople, type PersonRow } from '../../people/list.js';
import { offboardPerson } from '../../people/offboard.js';
import { viewPerson } from '../../people/show.js';
import type { Runtime } from '../../runtime.js';
import { findUserByUsername } from '../../users/service.js';
import { CliUsageError, defineCommand, type Flags, integerFlag, stringFlag } from '../command.js';
import { defineOrganisationCommand } from '../organisation-command.js';

/*
 * The operator's hand on people: the same acts as the admin API, recorded with
 * actor `cli`, and not bound to one organisation. Re-enabling a person who holds
 * a privileged role takes effect at once here (an admin's needs a second admin).
 */

const usernameFlag = { type: 'string', description: 'the person’s username (their e-mail or employee id)', required: true } as const;
const reasonFlag = { type: 'string', description: 'why (kept in the audit log)', required: true } as const;

export async function personId(runtime: Runtime, flags: Flags): Promise<string> {
  const username = stringFlag(flags, 'username')!;
  const user = await findUserByUsername(runtime.db, username);
  if (!user) throw new CliUsageError(`no user named "${username}"`);
  return user.id;
}

const methods = (row: PersonRow) => [row.methods.passkeys ? `${row.methods.passkeys} passkey(s)` : '', row.methods.password ? 'password' : '', row.methods.totp ? 'TOTP' : ''].filter(Boolean).join(', ') || 'none';

export const listPeopleCommand = defineOrganisationCommand({
  path: ['user', 'list'],
  summary: "list an organisation's people with their roles, status and sign-in methods",
  flags: {
    query: { type: 'string', description: 'part of a name, e-mail or employee id' },
    role: { type: 'string', description: 'only people with this role' },
    status: { type: 'string', description: 'active, disabled or offboarded' },
    cursor: { type: 'string', description: 'the next_cursor of the previous page' },
    limit: { type: 'string', description: 'people per page (1 to 100, default 50)' },
  },
  async run(flags, io) {
    const { runtime, organisation } = await io.openOrganisation();
    return listPeople(runtime.db, organisation.id, { query: stringFlag(flags, 'query'), role: stringFlag(flags, 'role'), status: stringFlag(flags, 'status'), cursor: stringFlag(flags, 'cursor'), limit: integerFlag(flags, 'limit') });
  },
  format: (r) =>
    [
      ...r.people.map((p) => `${p.username.padEnd(32)} ${p.display_name.padEnd(24)} ${p.status.padEnd(10)} ${p.roles.join(',').padEnd(24)} ${methods(p)}; last sign-in ${p.last_sign_in ?? 'never'}`),
      ...(r.people.length === 0 ? ['No one matches.'] : []),
      ...(r.next_cursor ? [`More: --cursor ${r.next_cursor}`] : []),
    ].join('\n'),
});

export const showPersonCommand = defineCommand({
  path: ['user', 'show'],
  summary: "one person: roles, passkeys, TOTP, devices, sessions, recent sign-ins and events (the look is audited)",
  flags: { username: usernameFlag },
  async run(flags, io) {
    const runtime = await io.runtime();
    return viewPerson(runtime, { actor: 'cli' }, { actor: { kind: 'cli' }, personId: await personId(runtime, flags) });
  },
  format: (p) =>
    [
      `${p.display_name} <${p.username}>  ${p.status}${p.disabled ? ` (since ${p.disabled.at} by ${p.disabled.by}: ${p.disabled.reason})` : ''}`,
      `roles: ${p.roles.join(', ') || 'none'}`,
      `passkeys: ${p.passkeys.filter((k) => !k.revoked_at).map((k) => `${k.name} [${k.bound_acr}]`).join('; ') || 'none'}`,
      `password: ${p.password ? 'yes' : 'no'}; TOTP: ${p.totp ? 'yes' : 'no'}`,
      `sessions: ${p.sessions.length}; devices: ${p.devices.filter((d) => !d.revoked).length}; recovery cases: ${p.recovery_cases.length}`,
      ...p.recent_sign_ins.slice(0, 5).map((s) => `  ${s.at} ${s.action} ${s.ip ?? ''}`),
    ].join('\n'),
});

export const exportPersonCommand = defineCommand({
  path: ['user', 'export'],
  summary: 'subject-access export: everything held about a person as one JSON document, no secret or hash (the export is audited)',
  flags: { username: usernameFlag, out: { type: 'string', file: true, description: 'the file to create (never overwritten, readable by you only); without it the document is printed' } },
  async run(flags, io): Promise<PersonExport | { file: string; username: string; bytes: number }> {
    const runtime = await io.runtime();
    const out = stringFlag(flags, 'out');
    if (out === undefined) return exportPerson(runtime, { actor: 'cli' }, { actor: { kind: 'cli' }, personId: await personId(runtime, flags) });
    // Create the file first: an export that cannot be written is never audited as made.
    let fd: number;
    try {
      fd = openSync(out, 'wx', 0o600);
    } catch (error) {
      throw new CliUsageError(`cannot create "${out}": ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    let text: string;
    let data: PersonExport;
    try {
      data = await exportPerson(runtime, { actor: 'cli' }, { actor: { kind: 'cli' }, personId: await personId(runtime, flags) });
      text = `${JSON.stringify(data, null, 2)}\n`;
      writeSync(fd, text);
    } catch (error) {
      closeSync(fd);
      unlinkSync(out);
      throw error;
    }
    closeSync(fd);
    return { file: out, username: data.profile.username, bytes: Buffer.byteLength(text) };
  },
  format: (r) => ('file' in r ? `Exported ${r.username} to ${r.file} (${r.bytes} bytes).` : JSON.stringify(r, null, 2)),
});

const describe = (verb: string) => (r: DisabledPerson) => `${verb} ${r.username}: ${r.sessions} session(s) and ${r.grants} grant(s) ended, ${r.backchannel_logouts} back-channel logout(s) queued.`;

export const disablePersonCommand = defineCommand({
  path: ['user', 'disable'],
  summary: 'disable a person at once: their sessions, grants, refresh and access tokens end',
  flags: { username: usernameFlag, reason: reasonFlag },
  async run(flags, io) {
    const runtime = await io.runtime();
    return disablePerson(runtime, { actor: 'cli' }, { actor: { kind: 'cli' }, personId: await personId(runtime, flags), reason: stringFlag(flags, 'reason') });
  },
  format: describe('Disabled'),
});

export const enablePersonCommand = defineCommand({
  path: ['user', 'enable'],
  summary: 'enable a disabled person (anything the disable ended stays ended)',
  flags: { username: usernameFlag, reason: reasonFlag },
  async run(flags, io) {
    const runtime = await io.runtime();
    return enablePerson(runtime, { actor: 'cli' }, { actor: { kind: 'cli' }, personId: await personId(runtime, flags), reason: stringFlag(flags, 'reason') });
  },
  format: (r) => `Enabled ${r.username}; they sign in afresh.`,
});

export const offboardPersonCommand = defineCommand({
  path: ['user', 'offboard'],
  summary: 'offboard a person who left: disable, remove every credential; the username is never re-used',
  flags: { username: usernameFlag, reason: reasonFlag, confirm: { type: 'boolean', description: 'yes, remove every credential for good', required: true } },
  async run(flags, io) {
    const runtime = await io.runtime();
    return offboardPerson(runtime, { actor: 'cli' }, { actor: { kind: 'cli' }, personId: await personId(runtime, flags), reason: stringFlag(flags, 'reason'), confirm: flags.confirm === true });
  },
  format: (r) => `${describe('Offboarded')(r)} Removed ${r.passkeys} passkey(s), ${r.password} password, ${r.totp} TOTP; ${r.invitations} invitation(s) revoked, ${r.recovery_cases} recovery case(s) cancelled.`,
});
