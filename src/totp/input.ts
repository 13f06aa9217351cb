import { WartaError } from '../errors.js';

/**
 * A TOTP code field: 6 to 8 digits, spaces allowed ("123 456"). The exact
 * length is checked against the credential later; checking it here, before
 * the account is known, would tell an attacker how many digits it uses.
 */
export function readTotpCode(body: Record<string, unknown>, name = 'code'): string {
  const value = body[name];
  if (value === undefined || value === null || value === '') throw new WartaError(400, 'invalid_request', `${name} is required`);
  // A JSON number would lose the code's leading zeros.
  if (typeof value !== 'string') throw new WartaError(400, 'invalid_code_format', `${name} must be a string of digits`);
  if (value.length > 16 || !/^[0-9]{6,8}$/.test(value.replaceAll(' ', ''))) throw new WartaError(400, 'invalid_code_format', 'enter the 6-digit code from your authenticator app');
  return value;
}
