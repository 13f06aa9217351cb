/** Reading the recovery desk's request bodies into typed input (routes call these). */
import { WartaError } from '../errors.js';
import { optionalString, requiredString } from '../http/json-body.js';
import { readPassword, readTotpCode } from '../passwords/input.js';

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
