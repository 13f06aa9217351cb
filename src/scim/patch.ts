/**
 * PATCH (RFC 7644 §3.5.2) applied to the resource as it is now, giving the resource
 * as it should be; the caller then checks and stores that like a PUT, so a PATCH can
 * produce nothing a PUT could not. Paths: an attribute (`active`, `userName`), a
 * sub-attribute (`name.givenName`), or the e-mails by a value filter
 * (`emails[type eq "work"].value`), optionally prefixed by the User schema URN. Without
 * a path, `add` and `replace` take an object of attributes, as Entra ID and Okta send
 * `{"op":"replace","value":{"active":false}}`.
 */
import { invalidFilter, invalidSyntax, invalidValue, scimError } from './errors.js';
import { assertSchemas, canonical, USER_SCHEMA } from './user-resource.js';

export const PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const MAX_PATCH_OPERATIONS = 50;

const ATTRIBUTES = ['userName', 'name', 'displayName', 'emails', 'externalId', 'active', 'password'] as const;
type Attribute = (typeof ATTRIBUTES)[number];
const SUB_ATTRIBUTES: Partial<Record<Attribute, readonly string[]>> = { name: ['givenName', 'familyName', 'formatted'], emails: ['value', 'type', 'primary', 'display'] };

interface Path {
  attribute: Attribute;
  /** `emails[type eq "work"]`: which values of a multi-valued attribute. */
  valueFilter?: { attribute: string; value: unknown };
  subAttribute?: string;
}

const invalidPath = (detail: string) => scimError(400, 'invalidPath', detail);
const PATH = /^([A-Za-z]\w*)(?:\[\s*(\w+)\s+eq\s+("(?:[^"\\]|\\.)*"|true|false)\s*\])?(?:\.([A-Za-z]\w*))?$/i;

function parsePath(raw: string): Path {
  const path = raw.startsWith(`${USER_SCHEMA}:`) ? raw.slice(USER_SCHEMA.length + 1) : raw;
  const match = PATH.exec(path);
  if (!match) throw invalidPath(`"${raw.slice(0, 100)}" is not a path Warta understands`);
  const attribute = canonical(match[1]!, ATTRIBUTES);
  if (!attribute) throw invalidPath(`${match[1]} is not an attribute Warta keeps`);
  const parsed: Path = { attribute };
  if (match[2] !== undefined) {
    if (attribute !== 'emails') throw invalidFilter(`${attribute} is not multi-valued`);
    const filterAttribute = canonical(match[2], SUB_ATTRIBUTES.emails!);
    if (!filterAttribute) throw invalidFilter(`emails have no ${match[2]}`);
    let value: unknown;
    try {
      value = JSON.parse(match[3]!);
    } catch {
      throw invalidFilter('the value in the path\'s filter is not a valid JSON string');
    }
    parsed.valueFilter = { attribute: filterAttribute, value };
  }
  if (match[4] !== undefined) {
    const sub = canonical(match[4], SUB_ATTRIBUTES[attribute] ?? []);
    if (!sub) throw invalidPath(`${attribute} has no sub-attribute ${match[4]}`);
    parsed.subAttribute = sub;
  }
  return parsed;
}

/** The operations of a PatchOp body, checked for shape. */
export function patchOperations(body: Record<string, unknown>): { op: 'add' | 'replace' | 'remove'; path: string | undefined; value: unknown }[] {
  assertSchemas(body, PATCH_OP_SCHEMA);
  const unknown = Object.keys(body).filter((key) => !['schemas', 'operations'].includes(key.toLowerCase()));
  if (unknown.length) throw invalidSyntax(`a PatchOp has no ${unknown.slice(0, 5).join(', ')}`);
  const operations = body[Object.keys(body).find((key) => key.toLowerCase() === 'operations') ?? 'Operations'];
  if (!Array.isArray(operations) || operations.length === 0) throw invalidSyntax('Operations must be a non-empty array');
  if (operations.length > MAX_PATCH_OPERATIONS) throw invalidValue(`at most ${MAX_PATCH_OPERATIONS} operations in one PATCH`);
  return operations.map((operation, index) => {
    if (operation === null || typeof operation !== 'object' || Array.isArray(operation)) throw invalidSyntax(`Operations[${index}] must be an object`);
    const entries = Object.fromEntries(Object.entries(operation as Record<string, unknown>).map(([key, value]) => [key.toLowerCase(), value]));
    const extra = Object.keys(entries).filter((key) => !['op', 'path', 'value'].includes(key));
    if (extra.length) throw invalidSyntax(`Operations[${index}] has no ${extra.join(', ')}`);
    const op = typeof entries.op === 'string' ? entries.op.toLowerCase() : '';
    if (op !== 'add' && op !== 'replace' && op !== 'remove') throw invalidSyntax(`Operations[${index}].op must be add, replace or remove`);
    if (entries.path !== undefined && (typeof entries.path !== 'string' || entries.path.length > 300)) throw invalidPath(`Operations[${index}].path must be a string of at most 300 characters`);
    if (op !== 'remove' && entries.value === undefined) throw invalidValue(`Operations[${index}] (${op}) needs a value`);
    return { op, path: entries.path as string | undefined, value: entries.value };
  });
}

const asObject = (value: unknown): Record<string, unknown> => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {});
const matches = (entry: unknown, filter: NonNullable<Path['valueFilter']>) => {
  const found = Object.entries(asObject(entry)).find(([key]) => key.toLowerCase() === filter.attribute.toLowerCase());
  const value = found?.[1];
  return typeof value === 'string' && typeof filter.value === 'string' ? value.toLowerCase() === filter.value.toLowerCase() : value === filter.value;
};

/** Applies the operations, in order, to a copy of `resource` (the patchable attributes by their canonical names). */
export function applyPatch(resource: Record<string, unknown>, operations: ReturnType<typeof patchOperations>): Record<string, unknown> {
  const next: Record<string, unknown> = structuredClone(resource);
  for (const { op, path, value } of operations) {
    if (path === undefined) {
      if (op === 'remove') throw scimError(400, 'noTarget', 'remove needs a path');
      const values = asObject(value);
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidValue(`${op} without a path takes an object of attributes`);
      // Keys may themselves be paths (`name.givenName`, Entra ID sends them so).
      for (const [key, item] of Object.entries(values)) setAt(next, parsePath(key), op, item);
      continue;
    }
    const target = parsePath(path);
    if (op === 'remove') removeAt(next, target);
    else setAt(next, target, op, value);
  }
  return next;
}

function setAt(resource: Record<string, unknown>, path: Path, op: 'add' | 'replace' | 'remove', value: unknown): void {
  const { attribute } = path;
  if (attribute === 'emails') return setEmails(resource, path, op, value);
  if (path.subAttribute) {
    resource[attribute] = { ...asObject(resource[attribute]), [path.subAttribute]: value };
    return;
  }
  // A complex attribute's sub-attributes merge (RFC 7644 §3.5.2.1, §3.5.2.3): the ones not named stay.
  if (attribute === 'name' && value !== null && typeof value === 'object' && !Array.isArray(value)) resource.name = { ...asObject(resource.name), ...value };
  else resource[attribute] = value;
}

function setEmails(resource: Record<string, unknown>, path: Path, op: 'add' | 'replace' | 'remove', value: unknown): void {
  const current = Array.isArray(resource.emails) ? (resource.emails as unknown[]) : [];
  if (path.valueFilter) {
    const index = current.findIndex((entry) => matches(entry, path.valueFilter!));
    const base = index >= 0 ? asObject(current[index]) : { [path.valueFilter.attribute]: path.valueFilter.value };
    const updated = path.subAttribute ? { ...base, [path.subAttribute]: value } : { ...base, ...asObject(value) };
    resource.emails = index >= 0 ? current.map((entry, i) => (i === index ? updated : entry)) : [...current, updated];
    return;
  }
  if (path.subAttribute) throw invalidPath('emails.<sub-attribute> needs a value filter, as in emails[type eq "work"].value');
  const given = Array.isArray(value) ? value : [value];
  // add appends to a multi-valued attribute, replace replaces all its values (RFC 7644 §3.5.2.1, §3.5.2.3).
  resource.emails = op === 'add' ? [...current, ...given] : given;
}

function removeAt(resource: Record<string, unknown>, path: Path): void {
  const { attribute } = path;
  if (attribute === 'emails' && path.valueFilter) {
    const current = Array.isArray(resource.emails) ? (resource.emails as unknown[]) : [];
    resource.emails = path.subAttribute ? current : current.filter((entry) => !matches(entry, path.valueFilter!));
    return;
  }
  if (path.subAttribute) {
    const { [path.subAttribute]: _removed, ...rest } = asObject(resource[attribute]);
    resource[attribute] = rest;
    return;
  }
  delete resource[attribute];
}
