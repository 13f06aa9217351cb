import { readFileSync } from 'node:fs';
import { type PolicyPreview, previewPolicyChange, setPolicy, showOrganisation } from '../../orgs/policy-admin.js';
import { CliUsageError, type Flags, stringFlag } from '../command.js';
import { defineOrganisationCommand } from '../organisation-command.js';

/*
 * The operator's view and edit of an organisation's policy: the same checks,
 * preview and lock-out guard as the admin API, recorded with actor `cli` and
 * announced to the organisation's admins as the instance operator's change.
 */

function policyFile(flags: Flags): unknown {
  const file = stringFlag(flags, 'file')!;
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CliUsageError(`--file: cannot read a JSON policy from "${file}": ${error instanceof Error ? error.message : String(error)}`);
  }
}

const names = (group: PolicyPreview['lose_every_sign_in']) =>
  group.count ? `${group.count}: ${group.people.map((p) => `${p.display_name || p.username} (${p.roles.join(', ')})`).join('; ')}${group.count > group.people.length ? ' …' : ''}` : 'none';

const formatPreview = (r: PolicyPreview & { dry_run: boolean }) =>
  [
    r.dry_run ? 'Dry run: nothing was changed.' : 'Policy set.',
    ...(r.changes.length ? r.changes.map((c) => `  ${c.member}: ${JSON.stringify(c.before)} -> ${JSON.stringify(c.after)}`) : ['  no setting changes']),
    `Would lose every way to sign in: ${names(r.lose_every_sign_in)}`,
    `Would lose password sign-in (keep a passkey): ${names(r.lose_password_sign_in)}`,
    ...(r.admins_locked_out.count ? [`Admins locked out (the change is refused): ${names(r.admins_locked_out)}`] : []),
    `Version: ${r.version}`,
  ].join('\n');

export const showOrganisationCommand = defineOrganisationCommand({
  path: ['org', 'show'],
  summary: "an organisation's policy (defaults marked), e-mail domains and people by role and status",
  flags: {},
  async run(_flags, io) {
    const { runtime, organisation } = await io.openOrganisation();
    return showOrganisation(runtime.db, organisation.id);
  },
  format: (r) =>
    [
      `${r.name} (${r.id}), policy version ${r.version}`,
      'Policy:',
      ...Object.entries(r.policy).map(([member, value]) => `  ${member}: ${JSON.stringify(value)}${r.defaulted.includes(member as never) ? ' (default)' : ''}`),
      `E-mail domains: ${r.email_domains.length ? r.email_domains.join(', ') : 'none'}`,
      `People: ${r.people.total} (${Object.entries(r.people.by_status).map(([status, n]) => `${n} ${status}`).join(', ')})`,
      ...Object.entries(r.people.by_role).map(([role, counts]) => `  ${role}: ${Object.entries(counts).map(([status, n]) => `${n} ${status}`).join(', ')}`),
    ].join('\n'),
});

export const setPolicyCommand = defineOrganisationCommand({
  path: ['org', 'set-policy'],
  summary: "replace an organisation's policy from a JSON file (--dry-run: only show what would change and for whom)",
  flags: {
    file: { type: 'string', file: true, description: 'the whole policy as JSON (members left out follow the defaults)', required: true },
    'dry-run': { type: 'boolean', description: 'preview the change; change nothing' },
    'expected-version': { type: 'string', description: 'refuse if the policy is no longer this version (from org show)' },
  },
  async run(flags, io) {
    const policy = policyFile(flags);
    const { runtime, organisation } = await io.openOrganisation();
    if (flags['dry-run'] === true) return { ...(await previewPolicyChange(runtime.db, organisation.id, policy)), dry_run: true };
    return { ...(await setPolicy(runtime, { actor: 'cli' }, { organisationId: organisation.id, policy, expectedVersion: stringFlag(flags, 'expected-version') })), dry_run: false };
  },
  format: formatPreview,
});
