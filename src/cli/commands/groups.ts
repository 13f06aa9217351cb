import { setAttributeSensitive } from '../../attributes/flag.js';
import { defineAttribute, findAttributeDefinition, listAttributeDefinitions, parseAttributeText, setAttribute } from '../../attributes/service.js';
import { appliedAtOnce } from '../../authority/change-requests.js';
import { setGroupSensitive } from '../../groups/flag.js';
import { moveGroup } from '../../groups/move.js';
import { addGroupMember, createGroup, deleteGroup, findGroup, listGroups, removeGroupMember } from '../../groups/service.js';
import { CliUsageError, listFlag, stringFlag } from '../command.js';
import { defineOrganisationCommand } from '../organisation-command.js';
import { personId } from './people.js';

/*
 * The operator's hand on an organisation's groups and attributes: the same acts as
 * the admin API (/api/admin/groups, /api/admin/attributes), recorded with actor `cli`.
 * A change to something sensitive takes effect at once here, as a role grant does
 * (cli/commands/roles.ts): the operator is the second pair of eyes the admin API asks for.
 */

const cli = { kind: 'cli' } as const;

const usernameFlag = { type: 'string', description: 'the person’s username', required: true } as const;
const groupFlag = { type: 'string', description: 'the group: its path (/ministry/department) or id', required: true } as const;

export const createGroupCommand = defineOrganisationCommand({
  path: ['group', 'create'],
  summary: 'create a group of an organisation, at the top or under a parent',
  flags: {
    name: { type: 'string', description: 'the group’s name (no "/")', required: true },
    parent: { type: 'string', description: 'the parent group: its path or id (default: a top-level group)' },
    'external-id': { type: 'string', description: 'the directory’s id for the group' },
    sensitive: { type: 'boolean', description: 'flag it sensitive: joining, leaving, moving or renaming it then takes two admins' },
  },
  async run(flags, io) {
    const { runtime, organisation } = await io.openOrganisation();
    const parent = stringFlag(flags, 'parent');
    const parentId = parent === undefined ? null : (await findGroup(runtime.db, organisation.id, parent)).id;
    return createGroup(runtime, { actor: 'cli' }, { organisationId: organisation.id, name: stringFlag(flags, 'name')!, parentId, externalId: stringFlag(flags, 'external-id') ?? null, sensitive: flags.sensitive === true });
  },
  format: (g) => `Created group ${g.path} (${g.id})${g.sensitive ? ', sensitive' : ''}`,
});

export const moveGroupCommand = defineOrganisationCommand({
  path: ['group', 'move'],
  summary: 'move a group under another parent (--parent, or --top) and/or rename it (--name); audited with the old and new path',
  flags: {
    group: groupFlag,
    parent: { type: 'string', description: 'the new parent: its path or id' },
    top: { type: 'boolean', description: 'make it a top-level group' },
    name: { type: 'string', description: 'the new name (no "/")' },
  },
  async run(flags, io) {
    const parent = stringFlag(flags, 'parent');
    const name = stringFlag(flags, 'name');
    if (parent !== undefined && flags.top === true) throw new CliUsageError('give --parent or --top, not both');
    if (parent === undefined && flags.top !== true && name === undefined) throw new CliUsageError('give --parent, --top or --name');
    const { runtime, organisation } = await io.openOrganisation();
    const parentId = flags.top === true ? null : parent === undefined ? undefined : (await findGroup(runtime.db, organisation.id, parent)).id;
    return appliedAtOnce(await moveGroup(runtime, { actor: 'cli' }, { actor: cli, organisationId: organisation.id, groupId: stringFlag(flags, 'group')!, ...(parentId !== undefined ? { parentId } : {}), ...(name !== undefined ? { name } : {}) }));
  },
  format: (g) => `The group is now ${g.path}.`,
});

export const setGroupSensitiveCommand = defineOrganisationCommand({
  path: ['group', 'set-sensitive'],
  summary: 'flag a group sensitive (joining, leaving, moving it then takes two admins), or clear the flag with --clear',
  flags: { group: groupFlag, clear: { type: 'boolean', description: 'clear the flag instead of setting it' } },
  async run(flags, io) {
    const { runtime, organisation } = await io.openOrganisation();
    return appliedAtOnce(await setGroupSensitive(runtime, { actor: 'cli' }, { actor: cli, organisationId: organisation.id, groupId: stringFlag(flags, 'group')!, sensitive: flags.clear !== true }));
  },
  format: (g) => `${g.path} is ${g.sensitive ? 'flagged sensitive' : 'not flagged sensitive'}.`,
});

export const listGroupsCommand = defineOrganisationCommand({
  path: ['group', 'list'],
  summary: "list an organisation's groups by path, with how many people are directly in each",
  flags: {},
  async run(_flags, io) {
    const { runtime, organisation } = await io.openOrganisation();
    return { groups: await listGroups(runtime.db, organisation.id) };
  },
  format: (r) => (r.groups.length ? r.groups.map((g) => `${g.path.padEnd(48)} ${String(g.members).padStart(5)} member(s)  ${g.id}${g.external_id ? `  external ${g.external_id}` : ''}${g.sensitive ? '  sensitive' : ''}`).join('\n') : 'No groups.'),
});

export const deleteGroupCommand = defineOrganisationCommand({
  path: ['group', 'delete'],
  summary: 'delete a group with no groups under it (a sensitive one too); the people in it leave it',
  flags: { group: groupFlag },
  async run(flags, io) {
    const { runtime, organisation } = await io.openOrganisation();
    return deleteGroup(runtime, { actor: 'cli' }, { actor: cli, organisationId: organisation.id, groupId: stringFlag(flags, 'group')! });
  },
  format: (r) => `Deleted group ${r.path}; ${r.members} member(s) left it.`,
});

export const addGroupMemberCommand = defineOrganisationCommand({
  path: ['group', 'add-member'],
  summary: 'put a person of the organisation in a group',
  flags: { group: groupFlag, username: usernameFlag },
  async run(flags, io) {
    const { runtime, organisation } = await io.openOrganisation();
    return appliedAtOnce(await addGroupMember(runtime, { actor: 'cli' }, { actor: cli, organisationId: organisation.id, groupId: stringFlag(flags, 'group')!, userId: await personId(runtime, flags) }));
  },
  format: (r) => (r.added ? `Added to ${r.group}.` : `Already in ${r.group}.`),
});

export const removeGroupMemberCommand = defineOrganisationCommand({
  path: ['group', 'remove-member'],
  summary: 'take a person out of a group',
  flags: { group: groupFlag, username: usernameFlag },
  async run(flags, io) {
    const { runtime, organisation } = await io.openOrganisation();
    return appliedAtOnce(await removeGroupMember(runtime, { actor: 'cli' }, { actor: cli, organisationId: organisation.id, groupId: stringFlag(flags, 'group')!, userId: await personId(runtime, flags) }));
  },
  format: (r) => (r.removed ? `Removed from ${r.group}.` : `Was not in ${r.group}.`),
});

export const defineAttributeCommand = defineOrganisationCommand({
  path: ['attribute', 'define'],
  summary: 'define a typed attribute of an organisation’s people (string, integer, boolean, or enum with --values)',
  flags: {
    name: { type: 'string', description: 'lower-case name, e.g. clearance_level', required: true },
    type: { type: 'string', description: 'string, integer, boolean or enum', required: true },
    values: { type: 'string', description: 'an enum’s allowed values, comma-separated' },
    sensitive: { type: 'boolean', description: 'flag it sensitive: setting a value then takes two admins' },
  },
  async run(flags, io) {
    const { runtime, organisation } = await io.openOrganisation();
    return defineAttribute(runtime, { actor: 'cli' }, { organisationId: organisation.id, name: stringFlag(flags, 'name')!, type: stringFlag(flags, 'type')!, allowedValues: listFlag(flags, 'values'), sensitive: flags.sensitive === true });
  },
  format: (d) => `Defined ${d.name}: ${d.type}${d.allowed_values ? ` (${d.allowed_values.join(', ')})` : ''}${d.sensitive ? ', sensitive' : ''}`,
});

export const setAttributeSensitiveCommand = defineOrganisationCommand({
  path: ['attribute', 'set-sensitive'],
  summary: 'flag an attribute sensitive (setting a value then takes two admins), or clear the flag with --clear',
  flags: { name: { type: 'string', description: 'the attribute', required: true }, clear: { type: 'boolean', description: 'clear the flag instead of setting it' } },
  async run(flags, io) {
    const { runtime, organisation } = await io.openOrganisation();
    return appliedAtOnce(await setAttributeSensitive(runtime, { actor: 'cli' }, { actor: cli, organisationId: organisation.id, name: stringFlag(flags, 'name')!, sensitive: flags.clear !== true }));
  },
  format: (d) => `${d.name} is ${d.sensitive ? 'flagged sensitive' : 'not flagged sensitive'}.`,
});

export const listAttributesCommand = defineOrganisationCommand({
  path: ['attribute', 'list'],
  summary: "list an organisation's attribute definitions",
  flags: {},
  async run(_flags, io) {
    const { runtime, organisation } = await io.openOrganisation();
    return { attributes: await listAttributeDefinitions(runtime.db, organisation.id) };
  },
  format: (r) => (r.attributes.length ? r.attributes.map((d) => `${d.name.padEnd(32)} ${d.type}${d.allowed_values ? ` (${d.allowed_values.join(', ')})` : ''}`).join('\n') : 'No attributes defined.'),
});

export const setAttributeCommand = defineOrganisationCommand({
  path: ['attribute', 'set'],
  summary: "set a person's attribute value, checked against its type (--value none clears it)",
  flags: { username: usernameFlag, name: { type: 'string', description: 'the attribute', required: true }, value: { type: 'string', description: 'the value (42, true, secret …) or none', required: true } },
  async run(flags, io) {
    const { runtime, organisation } = await io.openOrganisation();
    const name = stringFlag(flags, 'name')!;
    const text = stringFlag(flags, 'value')!;
    const value = text === 'none' ? null : parseAttributeText(await findAttributeDefinition(runtime.db, organisation.id, name), text);
    return appliedAtOnce(await setAttribute(runtime, { actor: 'cli' }, { actor: cli, organisationId: organisation.id, userId: await personId(runtime, flags), name, value }));
  },
  format: (r) => (r.value === null ? `Cleared ${r.name}.` : `Set ${r.name} = ${JSON.stringify(r.value)}.`),
});
