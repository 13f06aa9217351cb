/**
 * The SCIM User resource (RFC 7643 §4.1) as Warta keeps a person: `userName` is the
 * Warta username, `displayName` the name Warta shows, `name.givenName`/`familyName`
 * as the directory sent them, one work e-mail, `externalId` the directory's own id,
 * `active` whether the person may sign in. Anything else is refused rather than
 * silently dropped, so a directory's administrator sees at once which mapping
 * Warta does not keep. Attribute names are case-insensitive (RFC 7643 §2.1).
 */
import { createHash } from 'node:crypto';
import type { User } from '../db/schema.js';
import { WartaError } from '../errors.js';
import { assertWellFormedJson } from '../http/well-formed-input.js';
import { invalidSyntax, invalidValue, scimError } from './errors.js';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';

export const MAX_USERNAME = 254;
export const MAX_DISPLAY_NAME = 200;
export const MAX_NAME_PART = 100;
export const MAX_EXTERNAL_ID = 256;
export const MAX_EMAILS = 10;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const EMPLOYEE_ID = /^[\w.-]{1,64}$/;

/** What Warta keeps of a User: what a POST or PUT sets and a PATCH changes. */
export interface ScimUserFields {
  userName: string;
  displayName: string;
  givenName: string | null;
  familyName: string | null;
  email: string | null;
  externalId: string | null;
  active: boolean;
}

/** Attributes a client may send; `id`, `meta` and `groups` are read-only and ignored in a request (RFC 7644 §3.5.1). */
const WRITABLE = ['schemas', 'userName', 'name', 'displayName', 'emails', 'externalId', 'active'] as const;
const READ_ONLY = new Set(['id', 'meta', 'groups']);
const NAME_PARTS = ['givenName', 'familyName', 'formatted'] as const;
const EMAIL_PARTS = ['value', 'type', 'primary', 'display'] as const;

/** `key`'s canonical spelling among `known`, whatever its case; undefined when unknown. */
export const canonical = <K extends string>(key: string, known: readonly K[]): K | undefined => known.find((k) => k.toLowerCase() === key.toLowerCase());

/** A request body as a JSON object whose strings are well formed; malformed JSON is `invalidSyntax`. */
export function parseScimBody(text: string): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw invalidSyntax('the request body is not valid JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw invalidSyntax('the request body must be a JSON object');
  try {
    assertWellFormedJson(body);
  } catch (error) {
    if (error instanceof WartaError) throw invalidSyntax(error.description);
    throw error;
  }
  return body as Record<string, unknown>;
}

/** RFC 7643 §3: `schemas` is required and names the resource's schema; any other schema is not one Warta keeps. */
export function assertSchemas(body: Record<string, unknown>, expected: string): void {
  const schemas = Object.entries(body).find(([key]) => key.toLowerCase() === 'schemas')?.[1];
  if (!Array.isArray(schemas) || schemas.length === 0 || !schemas.every((s) => typeof s === 'string')) throw invalidSyntax(`schemas is required and must list ${expected}`);
  if (!schemas.includes(expected)) throw invalidSyntax(`schemas must list ${expected}`);
  const other = schemas.filter((s) => s !== expected);
  if (other.length) throw invalidValue(`schemas not supported here: ${other.join(', ')}`);
}

function stringOrNull(value: unknown, name: string, max: number): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw invalidValue(`${name} must be a string`);
  const trimmed = value.trim();
  if (trimmed.length > max) throw invalidValue(`${name} is longer than ${max} characters`);
  return trimmed === '' ? null : trimmed;
}

/** Directories differ: Entra ID sends `"False"` in a PATCH; a boolean by any spelling is accepted, nothing else. */
export function booleanValue(value: unknown, name: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  throw invalidValue(`${name} must be true or false`);
}

function objectValue(value: unknown, name: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidValue(`${name} must be an object`);
  return value as Record<string, unknown>;
}

function assertKnownKeys(object: Record<string, unknown>, known: readonly string[], where: string): void {
  const unknown = Object.keys(object).filter((key) => !canonical(key, known) && !(where === 'User' && READ_ONLY.has(canonical(key, [...READ_ONLY]) ?? '')));
  if (unknown.length) throw invalidSyntax(`${where} has attributes Warta does not keep: ${unknown.slice(0, 5).join(', ')}`);
}

/** The work e-mail Warta keeps: the primary one, else the first. */
function emailOf(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value)) throw invalidValue('emails must be an array');
  if (value.length > MAX_EMAILS) throw invalidValue(`at most ${MAX_EMAILS} emails`);
  const emails = value.map((entry, index) => {
    const email = objectValue(entry, `emails[${index}]`);
    assertKnownKeys(email, EMAIL_PARTS, `emails[${index}]`);
    const address = stringOrNull(email[canonical('value', Object.keys(email)) ?? 'value'], `emails[${index}].value`, 254)?.toLowerCase() ?? null;
    if (!address || !EMAIL.test(address)) throw invalidValue(`emails[${index}].value is not an e-mail address`);
    const primaryKey = Object.keys(email).find((key) => key.toLowerCase() === 'primary');
    return { address, primary: primaryKey !== undefined && booleanValue(email[primaryKey], `emails[${index}].primary`) };
  });
  return (emails.find((e) => e.primary) ?? emails[0])?.address ?? null;
}

/**
 * A User body of a POST or PUT (or a PATCH's result) as the fields Warta keeps.
 * `password` is refused: Warta's people enrol their own credentials through the
 * invitation, and a directory never holds one (issue 17).
 */
export function userFieldsOf(body: Record<string, unknown>): ScimUserFields {
  if (Object.keys(body).some((key) => key.toLowerCase() === 'password')) throw scimError(400, 'mutability', 'Warta never takes a password from a directory: people enrol their own credentials through their invitation');
  assertKnownKeys(body, WRITABLE, 'User');
  const get = (name: (typeof WRITABLE)[number]) => body[Object.keys(body).find((key) => key.toLowerCase() === name.toLowerCase()) ?? name];

  const userName = stringOrNull(get('userName'), 'userName', MAX_USERNAME);
  if (!userName) throw invalidValue('userName is required');
  if (!EMAIL.test(userName) && !EMPLOYEE_ID.test(userName)) throw invalidValue('userName must be an e-mail address, or 1 to 64 letters, digits, dot, dash or underscore');

  const nameValue = get('name');
  const name = nameValue === undefined || nameValue === null ? {} : objectValue(nameValue, 'name');
  assertKnownKeys(name, NAME_PARTS, 'name');
  const namePart = (part: (typeof NAME_PARTS)[number]) => stringOrNull(name[Object.keys(name).find((key) => key.toLowerCase() === part.toLowerCase()) ?? part], `name.${part}`, part === 'formatted' ? MAX_DISPLAY_NAME : MAX_NAME_PART);
  const givenName = namePart('givenName');
  const familyName = namePart('familyName');
  const joined = [givenName, familyName].filter(Boolean).join(' ') || null;
  const displayName = stringOrNull(get('displayName'), 'displayName', MAX_DISPLAY_NAME) ?? namePart('formatted') ?? joined ?? userName;

  const activeValue = get('active');
  return {
    userName: EMAIL.test(userName) ? userName.toLowerCase() : userName,
    displayName,
    givenName,
    familyName,
    email: emailOf(get('emails')) ?? (EMAIL.test(userName) ? userName.toLowerCase() : null),
    externalId: stringOrNull(get('externalId'), 'externalId', MAX_EXTERNAL_ID),
    active: activeValue === undefined || activeValue === null ? true : booleanValue(activeValue, 'active'),
  };
}

/** The sign-in identifiers of a username: an e-mail address is the person's e-mail, anything else their employee id. */
export const isEmailUsername = (userName: string) => EMAIL.test(userName);

/** Only people in this organisation's SCIM view: an offboarded person was deleted (RFC 7644 §3.6, 404 afterwards). */
export const isProvisionable = (user: Pick<User, 'status'>) => user.status !== 'offboarded';

/** The resource without `meta`: what the version is a hash of. */
function userAttributes(user: User) {
  const name = { ...(user.given_name ? { givenName: user.given_name } : {}), ...(user.family_name ? { familyName: user.family_name } : {}), formatted: [user.given_name, user.family_name].filter(Boolean).join(' ') || user.display_name };
  return {
    schemas: [USER_SCHEMA],
    id: user.id,
    ...(user.external_id ? { externalId: user.external_id } : {}),
    userName: user.username,
    name,
    displayName: user.display_name,
    emails: user.email ? [{ value: user.email, type: 'work', primary: true }] : [],
    active: user.status === 'active',
  };
}

/**
 * The resource's version (RFC 7644 §3.14): a hash of what it shows and when it last
 * changed, so any change to the person, whoever made it, gives a new version.
 */
export function userVersion(user: User): string {
  const digest = createHash('sha256').update(JSON.stringify([userAttributes(user), user.updated_at.toISOString()])).digest('base64url');
  return `W/"${digest.slice(0, 22)}"`;
}

export function userResource(user: User, baseUrl: string) {
  return {
    ...userAttributes(user),
    meta: { resourceType: 'User', created: user.created_at.toISOString(), lastModified: user.updated_at.toISOString(), location: `${baseUrl}/Users/${user.id}`, version: userVersion(user) },
  };
}

/** The resource as a PATCH starts from (RFC 7644 §3.5.2): the attributes a client may change. */
export function patchableUser(user: User): Record<string, unknown> {
  const { schemas: _schemas, id: _id, ...attributes } = userAttributes(user);
  return { ...attributes, externalId: user.external_id };
}
