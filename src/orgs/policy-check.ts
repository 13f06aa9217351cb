import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ROLES } from '../db/schema.js';
import { WartaError } from '../errors.js';
import { type OrganisationPolicy, resolvePolicy } from './policy.js';

const invalidPolicy = (member: string, problem: string) => new WartaError(400, 'invalid_policy', `policy member "${member}": ${problem}`.slice(0, 300));

const AAGUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const whole = (min: number, max: number) => z.number().int().min(min).max(max);

/** The bounds match what the consumers of each member accept (totp/service.ts, recovery/policy.ts), so a stored policy never fails closed there. */
const memberSchemas = {
  attestation: z.enum(['none', 'direct']),
  allowedAaguids: z.array(z.string().trim().toLowerCase().regex(AAGUID, 'an AAGUID is a UUID like 00000000-0000-0000-0000-000000000000')).max(100),
  allowPasswords: z.boolean(),
  allowTotp: z.boolean(),
  passkeyRequiredRoles: z.array(z.enum(ROLES as [string, ...string[]])).max(ROLES.length),
  totpAlgorithm: z.enum(['SHA1', 'SHA256', 'SHA512']),
  totpDigits: z.union([z.literal(6), z.literal(7), z.literal(8)]),
  totpPeriod: whole(15, 300),
  recoveryDesks: z.array(z.string().trim().min(1, 'a desk has a name').max(100).regex(/^[^\p{Cc}]*$/u, 'a desk name is one line')).max(50),
  recoveryRequireDifferentDesk: z.boolean(),
  recoveryCaseTtlHours: whole(1, 24 * 30),
  recoveryCodeTtlMinutes: whole(5, 24 * 60),
  recoveryCodeMaxAttempts: whole(1, 20),
  recoveryRevokesOldCredentials: z.boolean(),
  sessionIdleMinutes: whole(5, 7 * 24 * 60).nullable(),
  sessionMaxHours: whole(1, 24 * 90).nullable(),
  clientSecurityProfile: z.enum(['baseline', 'fapi2']),
} satisfies Record<keyof OrganisationPolicy, z.ZodType>;

/** The policy as the admin API returns it (every member resolved). */
export const PolicySchema = z.object(memberSchemas);

const MEMBERS = Object.keys(memberSchemas) as (keyof OrganisationPolicy)[];

/**
 * A proposed policy, checked member by member and as a whole: the members it
 * names, normalised (members it leaves out take their defaults). Refuses with
 * `400 invalid_policy` naming the first member at fault, so nothing is stored
 * that a sign-in, an enrollment or a recovery would later fail closed on.
 */
export function checkPolicy(proposed: unknown): Partial<OrganisationPolicy> {
  if (typeof proposed !== 'object' || proposed === null || Array.isArray(proposed)) throw invalidPolicy('(policy)', 'a policy is a JSON object');
  const checked: Record<string, unknown> = {};
  for (const [member, value] of Object.entries(proposed)) {
    if (!(member in memberSchemas)) throw invalidPolicy(member, `not a policy member; the members are ${MEMBERS.join(', ')}`);
    const parsed = memberSchemas[member as keyof OrganisationPolicy].safeParse(value);
    if (!parsed.success) throw invalidPolicy(member, parsed.error.issues[0]?.message ?? 'wrong type');
    checked[member] = parsed.data;
  }
  const policy = resolvePolicy(checked);
  const duplicate = <T>(list: readonly T[], key: (item: T) => unknown) => list.find((item, i) => list.findIndex((other) => key(other) === key(item)) !== i);
  const role = duplicate(policy.passkeyRequiredRoles, (r) => r);
  if (role) throw invalidPolicy('passkeyRequiredRoles', `${role} is listed twice`);
  const desk = duplicate(policy.recoveryDesks, (d) => d.toLowerCase());
  if (desk) throw invalidPolicy('recoveryDesks', `"${desk}" is listed twice`);
  if (policy.attestation === 'none' && policy.allowedAaguids.length)
    throw invalidPolicy('allowedAaguids', 'an AAGUID allow-list is only checked with attestation "direct"; set attestation to "direct" or empty the list');
  // With direct attestation and no AAGUID on the list, no new passkey can be registered (webauthn/metadata.ts).
  const passkeysAllowed = policy.attestation === 'none' || policy.allowedAaguids.length > 0;
  const passwordsAllowed = policy.allowPasswords && policy.allowTotp;
  if (!passkeysAllowed && policy.passkeyRequiredRoles.length)
    throw invalidPolicy('passkeyRequiredRoles', `${policy.passkeyRequiredRoles.join(', ')} must use passkeys, but attestation "direct" with no allowed AAGUID lets no passkey be registered`);
  if (!passkeysAllowed && !passwordsAllowed)
    throw invalidPolicy('allowedAaguids', 'with no allowed AAGUID and no password with TOTP, no role has any way to sign in');
  return Object.fromEntries(MEMBERS.filter((member) => member in checked).map((member) => [member, checked[member]])) as Partial<OrganisationPolicy>;
}

/**
 * A short fingerprint of the stored policy: show and preview return it, and a
 * change that names an older one is refused (`409 policy_modified`), so one
 * admin does not silently overwrite another's edit made after they read it.
 */
export function policyVersion(stored: Record<string, unknown> | null | undefined): string {
  const canonical = JSON.stringify(Object.fromEntries(Object.entries(stored ?? {}).sort(([a], [b]) => a.localeCompare(b))));
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 22);
}

/** The members whose resolved value differs, with both values. */
export function policyDifferences(before: OrganisationPolicy, after: OrganisationPolicy): { member: keyof OrganisationPolicy; before: unknown; after: unknown }[] {
  return MEMBERS.filter((member) => JSON.stringify(before[member]) !== JSON.stringify(after[member])).map((member) => ({ member, before: before[member], after: after[member] }));
}

/** The members a stored policy leaves to their defaults. */
export const defaultedMembers = (stored: Record<string, unknown> | null | undefined): (keyof OrganisationPolicy)[] => MEMBERS.filter((member) => !(member in (stored ?? {})));
