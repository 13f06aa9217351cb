import { WartaError } from '../errors.js';
import { requiredString, optionalString } from '../http/json-body.js';

/** Documents an officer may check at the desk. */
export const DOCUMENT_TYPES = ['national_id', 'passport', 'residence_permit', 'driving_licence', 'service_card'] as const;
export type DocumentType = (typeof DOCUMENT_TYPES)[number];

export interface IdentityCheck {
  documentType: DocumentType;
  /** Upper case, exactly four letters or digits. */
  documentLast4: string;
  note: string;
}

const NOTE_MAX = 1000;
const REASON_MAX = 500;

/** One or more lines of text without other control characters, trimmed. */
function freeText(value: string, name: string): string {
  const text = value.normalize('NFC').replace(/\r\n?/g, '\n').trim();
  if (/[\u0000-\u0009\u000B-\u001F\u007F-\u009F]/.test(text)) throw new WartaError(400, 'invalid_request', `${name} must not contain control characters`);
  return text;
}

/**
 * The identity check recorded when a case is opened. Only the document's last
 * four characters are taken: anything longer might be the full number, which
 * Warta must never hold, so it is refused rather than cut short.
 */
export function readIdentityCheck(body: Record<string, unknown>): IdentityCheck {
  const documentType = requiredString(body, 'document_type', 40);
  if (!(DOCUMENT_TYPES as readonly string[]).includes(documentType)) throw new WartaError(400, 'invalid_request', `document_type must be one of ${DOCUMENT_TYPES.join(', ')}`);
  const last4 = optionalString(body, 'document_last4', 200) ?? '';
  if (!/^[A-Za-z0-9]{4}$/.test(last4))
    throw new WartaError(400, 'document_last4_invalid', "enter exactly the last 4 letters or digits of the document's number, never the whole number");
  return { documentType: documentType as DocumentType, documentLast4: last4.toUpperCase(), note: freeText(optionalString(body, 'identity_note', NOTE_MAX) ?? '', 'identity_note') };
}

export function readReason(body: Record<string, unknown>, name = 'reason'): string {
  const reason = freeText(requiredString(body, name, REASON_MAX), name);
  if (!reason) throw new WartaError(400, 'invalid_request', `${name} is required`);
  return reason;
}
