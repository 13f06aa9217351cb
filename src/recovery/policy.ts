import type { Database, Db } from '../db/schema.js';
import { WartaError } from '../errors.js';
import { type OrganisationPolicy, resolvePolicy } from '../orgs/policy.js';


/** The recovery part of an organisation's policy (src/orgs/policy.ts), checked. */
export interface RecoveryPolicy {
  desks: string[];
  requireDifferentDesk: boolean;
  caseTtlSeconds: number;
  codeTtlSeconds: number;
  codeMaxAttempts: number;
  revokesOldCredentials: boolean;
}

const invalid = (detail: string) => new WartaError(500, 'policy_invalid', "the organisation's recovery policy is invalid", { detail });

const wholeNumber = (value: unknown, min: number, max: number): value is number => Number.isInteger(value) && (value as number) >= min && (value as number) <= max;

/** Fails closed: a stored policy outside these bounds stops recovery rather than guessing what was meant. */
export async function recoveryPolicyOf(db: Db, organisationId: string): Promise<RecoveryPolicy> {
  const row = await db.selectFrom('organisations').select('policy').where('id', '=', organisationId).executeTakeFirstOrThrow();
  return recoveryPolicyFrom(resolvePolicy(row.policy));
}

/** The recovery part of an organisation's policy, read already; fails closed as recoveryPolicyOf does. */
export function recoveryPolicyFrom(policy: OrganisationPolicy): RecoveryPolicy {
  const { recoveryDesks: desks, recoveryCaseTtlHours: caseHours, recoveryCodeTtlMinutes: codeMinutes, recoveryCodeMaxAttempts: attempts } = policy;
  if (!Array.isArray(desks) || !desks.every((desk) => typeof desk === 'string' && desk.trim() !== '' && desk.length <= 100)) throw invalid('recoveryDesks must be a list of names');
  if (!wholeNumber(caseHours, 1, 24 * 30)) throw invalid(`recoveryCaseTtlHours ${String(caseHours)}`);
  if (!wholeNumber(codeMinutes, 5, 24 * 60)) throw invalid(`recoveryCodeTtlMinutes ${String(codeMinutes)}`);
  if (!wholeNumber(attempts, 1, 20)) throw invalid(`recoveryCodeMaxAttempts ${String(attempts)}`);
  if (typeof policy.recoveryRequireDifferentDesk !== 'boolean' || typeof policy.recoveryRevokesOldCredentials !== 'boolean') throw invalid('recovery switches must be true or false');
  return {
    desks: desks.map((desk) => desk.trim()),
    requireDifferentDesk: policy.recoveryRequireDifferentDesk,
    caseTtlSeconds: caseHours * 3600,
    codeTtlSeconds: codeMinutes * 60,
    codeMaxAttempts: attempts,
    revokesOldCredentials: policy.recoveryRevokesOldCredentials,
  };
}

/**
 * The desk an officer says they are at: one of the organisation's desks when it
 * lists any (matched case-insensitively, returned as configured), else a name
 * they type.
 */
export function checkDesk(policy: RecoveryPolicy, raw: string | undefined): string {
  const desk = (raw ?? '').normalize('NFC').replace(/\s+/g, ' ').trim();
  if (!desk) throw new WartaError(400, 'recovery_desk_required', 'say which desk you are at');
  if (policy.desks.length) {
    const configured = policy.desks.find((name) => name.toLowerCase() === desk.toLowerCase());
    if (!configured) throw new WartaError(400, 'recovery_desk_unknown', `"${desk}" is not one of your organisation's recovery desks`);
    return configured;
  }
  if (desk.length > 100 || /\p{Cc}/u.test(desk)) throw new WartaError(400, 'invalid_request', 'a desk name is one line of at most 100 characters');
  return desk;
}

export const sameDesk = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
