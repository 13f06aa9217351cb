/**
 * The security events Warta raises, by Warta name, with the SET event type URI
 * each is sent as. CAEP (OpenID Continuous Access Evaluation Profile 1.0 §3)
 * and RISC (OpenID RISC Event Types 1.0 §2) URIs where a defined type means the
 * same thing; `urn:warta:secevent:*` where no published type does. The reasons
 * for each choice are in docs/security-events.md.
 */

const CAEP = 'https://schemas.openid.net/secevent/caep/event-type/';
const RISC = 'https://schemas.openid.net/secevent/risc/event-type/';
const WARTA = 'urn:warta:secevent:';

export const EVENT_TYPE_URIS = {
  session_revoked: `${CAEP}session-revoked`,
  sessions_revoked: `${RISC}sessions-revoked`,
  credential_change: `${CAEP}credential-change`,
  account_disabled: `${RISC}account-disabled`,
  account_enabled: `${RISC}account-enabled`,
  recovery_opened: `${RISC}recovery-activated`,
  recovery_approved: `${WARTA}recovery-approved`,
  recovery_rejected: `${WARTA}recovery-rejected`,
  recovery_disputed: `${WARTA}recovery-disputed`,
  recovery_expired: `${WARTA}recovery-expired`,
  account_recovered: `${WARTA}recovery-redeemed`,
  device_linked: `${WARTA}device-linked`,
  role_granted: `${WARTA}role-granted`,
  role_revoked: `${WARTA}role-revoked`,
  client_changed: `${WARTA}client-changed`,
  organisation_changed: `${WARTA}organisation-changed`,
  signing_key_withdrawn: `${WARTA}signing-key-withdrawn`,
} as const;

export type SecurityEventType = keyof typeof EVENT_TYPE_URIS;

/**
 * Sent to every receiver of the organisation whatever types it subscribed to:
 * a service must learn that the account changed hands at a recovery desk even
 * if it asked only for, say, device links (issue 11, post-recovery rules).
 */
export const ALWAYS_DELIVERED_EVENT_TYPES: readonly SecurityEventType[] = ['account_recovered', 'signing_key_withdrawn'];

/** Events about the instance itself, not one user: stored without a user, sent with the issuer's JWKS as their subject. */
export const INSTANCE_EVENT_TYPES: readonly SecurityEventType[] = ['signing_key_withdrawn'];
export const SECURITY_EVENT_TYPES = Object.keys(EVENT_TYPE_URIS) as SecurityEventType[];

/**
 * Announcements to an organisation's admins on their account page, not news about
 * the account they are filed under: never sent to receivers as SETs, and not
 * offered for subscription.
 */
export const BANNER_ONLY_EVENT_TYPES: readonly SecurityEventType[] = ['client_changed', 'organisation_changed'];
export const DELIVERABLE_EVENT_TYPES = SECURITY_EVENT_TYPES.filter((type) => !BANNER_ONLY_EVENT_TYPES.includes(type));

export const isSecurityEventType = (value: unknown): value is SecurityEventType =>
  typeof value === 'string' && Object.hasOwn(EVENT_TYPE_URIS, value);

/** CAEP §2 `initiating_entity`. */
export type InitiatingEntity = 'admin' | 'user' | 'policy' | 'system';

/** CAEP §3.3 credential-change `credential_type` values Warta has. */
export type CredentialType = 'fido2-platform' | 'fido2-roaming' | 'app' | 'password';
/** CAEP §3.3 credential-change `change_type`. */
export type CredentialChangeType = 'create' | 'revoke' | 'update' | 'delete';

/** What each event type carries. Stored with the event (the account page shows it) and mapped into the SET by `eventPayload`. */
export interface SecurityEventDetails {
  /** One session ended by someone other than its user's sign-out (the user on another device, an admin, a policy). */
  session_revoked: { sessionId: string };
  /** Every session of the account ended (recovery, admin "sign out everywhere", account disabled). */
  sessions_revoked: Record<string, never>;
  credential_change: { changeType: CredentialChangeType; credentialType: CredentialType; friendlyName?: string; fido2Aaguid?: string };
  account_disabled: { reason?: 'hijacking' | 'bulk-account' };
  account_enabled: Record<string, never>;
  recovery_opened: { caseId: string };
  recovery_approved: { caseId: string };
  recovery_rejected: { caseId: string };
  /** The user said "not me" from a signed-in session before the code was used; an officer resolves it in person. */
  recovery_disputed: { caseId: string };
  recovery_expired: { caseId: string };
  /** The recovery was redeemed: the user enrolled a new credential with the officer-issued code. */
  account_recovered: { caseId: string };
  device_linked: { deviceId: string; deviceName: string };
  /** The user was given a privileged role (issue 11: every grant is announced to the organisation's admins). */
  role_granted: { role: string; grantedBy: string; approvedBy?: string; displayName: string };
  /** The user lost a privileged role: a relying service that copied the `roles` claim drops it now, not at the next sign-in. */
  role_revoked: { role: string; revokedBy: string; displayName: string };
  /** The instance operator changed one of the organisation's clients (registered, assigned, re-configured, …); filed once per admin. */
  client_changed: { clientId: string; clientName: string; change: ClientChange };
  /** The instance operator changed how the organisation works (its invitation e-mail domains, a new officer's cooldown), or an admin or the operator changed its policy; filed once per admin. */
  organisation_changed:
    | { change: 'email_domains_set'; domains: string[] }
    | { change: 'officer_cooldown_waived'; officerName: string }
    /** `changedBy`: the admin's name, or null for the instance operator; `members`: the policy members whose value changed. */
    | { change: 'policy_set'; changedBy: string | null; members: string[] }
    /** A person holding `admin`, `recovery_officer` or `operator` was disabled or offboarded: one admin can take power away alone, so the others hear of it. */
    | { change: 'privileged_person_removed'; personName: string; roles: string[]; status: 'disabled' | 'offboarded'; changedBy: string | null }
    /** A person's `admin`, `recovery_officer` or `operator` role was taken away, which one admin may do alone. */
    | { change: 'role_revoked'; personName: string; role: string; changedBy: string | null };
  /**
   * The operator withdrew signing keys in an emergency (src/incident/): tokens they
   * signed are forged or soon may be, so a relying service drops them and re-reads the JWKS.
   */
  signing_key_withdrawn: { withdrawnKids: string[]; signingKid: string; jwksUri: string };
}

/** What the operator did to an organisation's client, as its admins are told. */
export type ClientChange = 'registered' | 'updated' | 'assigned' | 'unassigned' | 'secret_rotated' | 'deleted' | 'suspended' | 'resumed';

/** The subject of every Warta SET: RFC 9493 §3.2.4 `iss_sub`, `sub` being the OIDC `sub` the receiver's client sees (the user id, or its pairwise value: src/oidc/subject.ts). */
export function subjectIdentifier(issuer: string, userId: string) {
  return { format: 'iss_sub', iss: issuer, sub: userId } as const;
}

/**
 * The `sub_id` claim of a SET. A revoked session is named with the SSF complex
 * subject `{user, session}` (CAEP §3.1 example 2), so a receiver can end just
 * the sessions it derived from that one; everything else names the user.
 */
export function setSubject(issuer: string, userId: string | null, type: SecurityEventType, details: Record<string, unknown>): Record<string, unknown> {
  if (userId === null) {
    if (!INSTANCE_EVENT_TYPES.includes(type) || typeof details.jwksUri !== 'string') throw new Error(`security event ${type} has no user`);
    // RFC 9493 `uri` format: the key set the event is about.
    return { format: 'uri', uri: details.jwksUri };
  }
  const user = subjectIdentifier(issuer, userId);
  if (type === 'session_revoked' && typeof details.sessionId === 'string')
    return { format: 'complex', user, session: { format: 'opaque', id: details.sessionId } };
  return user;
}

const RECOVERY_CASE = { case_id: 'caseId' } as const;

/**
 * The claims of each event beside its timestamp, as `claim name: details key`, in
 * the claim names of its specification (CAEP, RISC or Warta's own). A claim whose
 * value is absent or empty (an unnamed passkey) is left out.
 */
const PAYLOAD_CLAIMS: Record<SecurityEventType, Readonly<Record<string, string>>> = {
  credential_change: { credential_type: 'credentialType', change_type: 'changeType', friendly_name: 'friendlyName', fido2_aaguid: 'fido2Aaguid' },
  account_disabled: { reason: 'reason' },
  account_enabled: {},
  recovery_opened: RECOVERY_CASE,
  recovery_approved: RECOVERY_CASE,
  recovery_rejected: RECOVERY_CASE,
  recovery_disputed: RECOVERY_CASE,
  recovery_expired: RECOVERY_CASE,
  account_recovered: RECOVERY_CASE,
  device_linked: { device_id: 'deviceId', device_name: 'deviceName' },
  role_granted: { role: 'role' },
  role_revoked: { role: 'role' },
  client_changed: { client_id: 'clientId', change: 'change' },
  organisation_changed: { change: 'change' },
  signing_key_withdrawn: { withdrawn_kids: 'withdrawnKids', signing_kid: 'signingKid', jwks_uri: 'jwksUri' },
  session_revoked: {},
  sessions_revoked: {},
};

/** The event's members inside `events[uri]`. */
export function eventPayload(
  type: SecurityEventType,
  details: Record<string, unknown>,
  common: { occurredAt: Date; initiatingEntity: InitiatingEntity | null },
): Record<string, unknown> {
  const payload: Record<string, unknown> = { event_timestamp: Math.floor(common.occurredAt.getTime() / 1000) };
  if (common.initiatingEntity) payload.initiating_entity = common.initiatingEntity;
  for (const [claim, key] of Object.entries(PAYLOAD_CLAIMS[type])) {
    const value = details[key];
    if (value !== undefined && value !== null && value !== '') payload[claim] = value;
  }
  return payload;
}
