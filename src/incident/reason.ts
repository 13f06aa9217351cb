import { WartaError } from '../errors.js';

const MAX_REASON = 500;

/** Why the operator acted, for the audit entry: every incident-response act needs one (the record is read after the incident). */
export function incidentReason(raw: unknown): string {
  const reason = typeof raw === 'string' ? raw.trim() : '';
  if (reason === '' || reason.length > MAX_REASON || /[\u0000-\u0008\u000b-\u001f\u007f]/.test(reason))
    throw new WartaError(400, 'invalid_reason', `reason is required: 1 to ${MAX_REASON} printable characters saying why`);
  return reason;
}
