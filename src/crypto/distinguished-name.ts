/**
 * Distinguished names for `tls_client_auth_subject_dn` (RFC 8705 §2.1.2): the client
 * registers an RFC 4514 string; the certificate's subject comes from Node's
 * X509Certificate, one RDN per line in certificate order, multi-valued RDNs joined
 * by " + ", values escaped as RFC 2253 does. Both are read into the same shape and
 * compared RDN by RDN: attribute types by name or OID, values without regard to
 * case or runs of spaces (the caseIgnoreMatch of most directory strings, RFC 4517 §4.2.11).
 */

/** One attribute type and value: `type` upper case (`CN`, `O`, `EMAILADDRESS`) or a dotted OID. */
export interface AttributeValueAssertion {
  type: string;
  value: string;
}

/** RDNs in the order a certificate's subject encodes them (the most significant first). */
export type DistinguishedName = AttributeValueAssertion[][];

/** The short names OpenSSL prints and RFC 4514 §3 lists, and the OIDs they stand for. */
const TYPE_BY_OID: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'SERIALNUMBER',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'TITLE',
  '2.5.4.42': 'GN',
  '2.5.4.97': 'ORGANIZATIONIDENTIFIER',
  '0.9.2342.19200300.100.1.1': 'UID',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'EMAILADDRESS',
};
const TYPE_ALIASES: Record<string, string> = { E: 'EMAILADDRESS', GIVENNAME: 'GN', SURNAME: 'SN', USERID: 'UID' };

export class DistinguishedNameError extends Error {}

function canonicalType(raw: string): string {
  const type = raw.trim().replace(/^oid\./i, '');
  if (/^\d+(\.\d+)+$/.test(type)) return TYPE_BY_OID[type] ?? type;
  if (!/^[A-Za-z][A-Za-z0-9-]*$/.test(type)) throw new DistinguishedNameError(`"${raw}" is not an attribute type`);
  const upper = type.toUpperCase();
  return TYPE_ALIASES[upper] ?? upper;
}

/** Splits at `separator` where it is not escaped by a backslash. */
function splitUnescaped(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (char === '\\' && i + 1 < text.length) {
      current += char + text[i + 1];
      i++;
    } else if (text.startsWith(separator, i)) {
      parts.push(current);
      current = '';
      i += separator.length - 1;
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

/** RFC 4514 §3 escapes: `\` and a special character, or `\` and two hex digits (a UTF-8 byte). */
function unescapeValue(text: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (char !== '\\') {
      bytes.push(...Buffer.from(char, 'utf8'));
      continue;
    }
    const hex = text.slice(i + 1, i + 3);
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (i + 1 < text.length) {
      bytes.push(...Buffer.from(text[i + 1]!, 'utf8'));
      i += 1;
    } else {
      throw new DistinguishedNameError('a value ends with a lone backslash');
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function readAssertion(text: string): AttributeValueAssertion {
  const equals = text.indexOf('=');
  if (equals < 1) throw new DistinguishedNameError(`"${text.trim()}" is not type=value`);
  const rawValue = text.slice(equals + 1).trim();
  // RFC 4514 §2.4 hex-encoded BER values: a registration would have to match the certificate's encoding byte for byte.
  if (rawValue.startsWith('#')) throw new DistinguishedNameError('hex-encoded (#…) values are not supported; write the value as a string');
  return { type: canonicalType(text.slice(0, equals)), value: unescapeValue(rawValue) };
}

/** An RFC 4514 string, e.g. `CN=client.example.gov,O=Example,C=PL` (least significant RDN first). */
export function parseDistinguishedName(text: string): DistinguishedName {
  if (text.trim() === '') throw new DistinguishedNameError('the distinguished name is empty');
  const rdns = splitUnescaped(text, ',').map((rdn) => splitUnescaped(rdn, '+').map(readAssertion));
  return rdns.reverse();
}

/** Node's `X509Certificate.subject`: one RDN per line, most significant first. */
export function parseCertificateSubject(subject: string): DistinguishedName {
  return subject
    .split('\n')
    .filter((line) => line !== '')
    .map((rdn) => splitUnescaped(rdn, ' + ').map(readAssertion));
}

const normalisedValue = (value: string) => value.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
const assertionKey = (ava: AttributeValueAssertion) => `${ava.type}=${normalisedValue(ava.value)}`;

export function sameDistinguishedName(a: DistinguishedName, b: DistinguishedName): boolean {
  if (a.length !== b.length) return false;
  return a.every((rdn, i) => {
    const other = b[i]!;
    if (rdn.length !== other.length) return false;
    const keys = rdn.map(assertionKey).sort();
    const otherKeys = other.map(assertionKey).sort();
    return keys.every((key, j) => key === otherKeys[j]);
  });
}
