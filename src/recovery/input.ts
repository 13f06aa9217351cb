/**
 * Reading the recovery desk's request bodies into typed input (routes call these).
 * The officer's steps hand over a Parsed field where a malformed value is an
 * audited refusal, read at the point the rules of that step look at it.
 */
import { WartaError } from '../errors.js';
import { optionalString, requiredString } from '../http/json-body.js';
import { type Parsed, parse } from '../parsed.js';
import { readPassword } from '../passwords/input.js';
import { readTotpCode } from '../totp/input.js';
import { type IdentityCheck, readIdentityCheck, readReason } from './identity.js';
import { isUuid } from './cases.js';

/** Where the officer sits: checked against the organisation's desks once the case is known. */
const readDesk = (body: Record<string, unknown>): Parsed<string | undefined> => parse(() => optionalString(body, 'desk', 200));

export interface OpenCaseInput {
  /** The person, when user_id is a UUID (anything else is "no such person"). */
  userId: string | undefined;
  identity: Parsed<{ identity: IdentityCheck; reason: string }>;
  desk: Parsed<string | undefined>;
}

/** Body: user_id, desk, document_type, document_last4, identity_note, reason. */
export function readOpenCase(body: Record<string, unknown>): OpenCaseInput {
  return {
    userId: typeof body.user_id === 'string' && isUuid(body.user_id) ? body.user_id.toLowerCase() : undefined,
    identity: parse(() => ({ identity: readIdentityCheck(body), reason: readReason(body) })),
    desk: readDesk(body),
  };
}

export interface ApprovalFields {
  desk: Parsed<string | undefined>;
}

/** Body: desk. */
export function readApproval(body: Record<string, unknown>): ApprovalFields {
  return { desk: readDesk(body) };
}

export interface RejectionFields {
  reason: Parsed<string>;
  desk: Parsed<string | undefined>;
}

/** Body: desk, reason. */
export function readRejection(body: Record<string, unknown>): RejectionFields {
  return { reason: parse(() => readReason(body)), desk: readDesk(body) };
}

export interface ResolutionFields extends RejectionFields {
  resolution: 'continue' | 'reject';
}

/** Body: resolution ("continue" or "reject"), desk, reason. */
export function readResolution(body: Record<string, unknown>): ResolutionFields {
  const resolution = body.resolution;
  if (resolution !== 'continue' && resolution !== 'reject') throw new WartaError(400, 'invalid_request', 'resolution must be "continue" (the recovery is genuine) or "reject"');
  return { resolution, ...readRejection(body) };
}

export interface RecoveryPasskeyInput {
  grant: string;
  credential: unknown;
  name: string | undefined;
}

export function readRecoveryPasskey(body: Record<string, unknown>): RecoveryPasskeyInput {
  if (body.credential === undefined) throw new WartaError(400, 'invalid_request', 'credential is required');
  return { grant: requiredString(body, 'grant', 128), credential: body.credential, name: optionalString(body, 'name', 200) };
}

export interface RecoveryPasswordInput {
  grant: string;
  password: string;
  code: string;
}

export function readRecoveryPassword(body: Record<string, unknown>): RecoveryPasswordInput {
  return { grant: requiredString(body, 'grant', 128), password: readPassword(body), code: readTotpCode(body) };
}
