import type { ColumnType, Generated, Insertable, Selectable, Kysely } from 'kysely';

/**
 * Every table Warta has, in one place. Capabilities add their tables to this
 * interface (and a migration under migrations/); queries are typed from it.
 * Timestamps are written from the injected clock, never `now()` in SQL, so
 * tests control time.
 */
export interface Database {
  organisations: OrganisationsTable;
  users: UsersTable;
  user_roles: UserRolesTable;
  invitations: InvitationsTable;
  data_keys: DataKeysTable;
  instance_secrets: InstanceSecretsTable;
  instance_settings: InstanceSettingsTable;
  setup_token: SetupTokenTable;
  signing_keys: SigningKeysTable;
  audit_log: AuditLogTable;
  audit_sink_checkpoint: AuditSinkCheckpointTable;
  anonymous_failure_counts: AnonymousFailureCountsTable;
  audit_archives: AuditArchivesTable;
  rate_limits: RateLimitsTable;
  passkey_shapes: PasskeyShapesTable;
  sessions: SessionsTable;
  security_events: SecurityEventsTable;
  event_receivers: EventReceiversTable;
  set_outbox: SetOutboxTable;
  webauthn_user_handles: WebauthnUserHandlesTable;
  webauthn_credentials: WebauthnCredentialsTable;
  webauthn_challenges: WebauthnChallengesTable;
  password_credentials: PasswordCredentialsTable;
  totp_credentials: TotpCredentialsTable;
  totp_setups: TotpSetupsTable;
  oauth_clients: OAuthClientsTable;
  oauth_grants: OAuthGrantsTable;
  oauth_authorization_codes: OAuthAuthorizationCodesTable;
  oauth_refresh_tokens: OAuthRefreshTokensTable;
  oauth_authorization_requests: OAuthAuthorizationRequestsTable;
  oauth_consents: OAuthConsentsTable;
  oauth_seen_jtis: OAuthSeenJtisTable;
  oauth_revoked_access_tokens: OAuthRevokedAccessTokensTable;
  backchannel_logouts: BackchannelLogoutsTable;
  recovery_cases: RecoveryCasesTable;
  devices: DevicesTable;
  role_requests: RoleRequestsTable;
  groups: GroupsTable;
  group_members: GroupMembersTable;
  attribute_definitions: AttributeDefinitionsTable;
  user_attributes: UserAttributesTable;
  change_requests: ChangeRequestsTable;
}

/** jsonb columns: written as a JSON string, read back parsed. */
export type Json<T> = ColumnType<T, string, string>;

export type Role = 'member' | 'recovery_officer' | 'admin' | 'operator';
export const ROLES: readonly Role[] = ['member', 'recovery_officer', 'admin', 'operator'];
/** Roles an invitation may carry: `operator` is granted only by bootstrap or the CLI (src/authority/). */
export type InvitableRole = Exclude<Role, 'operator'>;
export const INVITABLE_ROLES: readonly InvitableRole[] = ['member', 'recovery_officer', 'admin'];

export interface OrganisationsTable {
  id: string;
  name: string;
  /** Per-organisation policy (authenticator attestation, TOTP, recovery …); see orgs/policy.ts. */
  policy: Json<Record<string, unknown>>;
  /** Lower-case e-mail domains the organisation's admins may invite into; anything else needs the operator (src/authority/email-domains.ts). */
  email_domains: ColumnType<string[], string | undefined, string>;
  created_at: Date;
}

export type UserStatus = 'active' | 'disabled' | 'offboarded';
export const USER_STATUSES: readonly UserStatus[] = ['active', 'disabled', 'offboarded'];

export interface UsersTable {
  id: string;
  organisation_id: string;
  /** Sign-in name; unique case-insensitively. */
  username: string;
  display_name: string;
  email: string | null;
  employee_id: string | null;
  /** `offboarded`: left for good, credentials removed; the row stays so the username is never re-used (src/people/). */
  status: UserStatus;
  created_at: Date;
  updated_at: Date;
  /** The last disable or offboard: when, by whom (`user:<id>` or `cli`), and why. */
  disabled_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  disabled_by: ColumnType<string | null, string | null | undefined, string | null>;
  disabled_reason: ColumnType<string | null, string | null | undefined, string | null>;
  /** When the account last completed a recovery: privileged actions wait a cooldown after it (src/sessions/privilege.ts). */
  recovered_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** The provisioning directory's identifier for the person (SCIM `externalId`), unique within the organisation. */
  external_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** `name.givenName` and `name.familyName` as a directory sent them (SCIM); `display_name` is what Warta shows. */
  given_name: ColumnType<string | null, string | null | undefined, string | null>;
  family_name: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface UserRolesTable {
  user_id: string;
  role: Role;
  granted_at: Date;
  /** A recovery officer acts on cases only from this moment (the new-officer cooldown); null: at once. */
  acts_from: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface InvitationsTable {
  id: string;
  organisation_id: string;
  /** SHA-256 of the token; the token itself is only ever in the invitation link. Null while a privileged invitation awaits its second admin: no link exists yet. */
  token_hash: string | null;
  display_name: string;
  email: string | null;
  employee_id: string | null;
  /** Never `operator` (a CHECK constraint and createInvitation refuse it). */
  role: Role;
  created_by: string | null;
  /** Redemption also grants `operator` (the first admin, from `warta bootstrap`). */
  grants_operator: ColumnType<boolean, boolean | undefined, boolean>;
  /** An admin asked for a privileged role: a different admin must approve before the link is minted. */
  approval_required: ColumnType<boolean, boolean | undefined, boolean>;
  approved_by: ColumnType<string | null, string | null | undefined, string | null>;
  approved_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  created_at: Date;
  expires_at: Date;
  redeemed_at: Date | null;
  redeemed_by: string | null;
  revoked_at: Date | null;
  /** The person a directory provisioned (SCIM) before they enrolled: redemption gives them their first credential rather than creating a person. */
  user_id: ColumnType<string | null, string | null | undefined, string | null>;
}

export type RoleRequestKind = 'grant' | 'enable';
export type RoleRequestStatus = 'pending' | 'approved' | 'expired';

/** An admin's ask for a privileged role or a privileged person's re-enabling, waiting for a different admin (src/people/role-requests.ts). */
export interface RoleRequestsTable {
  id: string;
  organisation_id: string;
  /** The person the request is about. */
  user_id: string;
  kind: RoleRequestKind;
  /** The role a grant gives; null for an enable. */
  role: Exclude<Role, 'member' | 'operator'> | null;
  reason: string;
  requested_by: string;
  requested_at: Date;
  expires_at: Date;
  status: RoleRequestStatus;
  /** The second admin who approved it (never the asker, never the person), or null. */
  decided_by: ColumnType<string | null, string | null | undefined, string | null>;
  decided_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface DataKeysTable {
  id: string;
  /** The data-encryption key, AES-256-GCM-wrapped with the master key. */
  wrapped_key: string;
  master_key_id: string;
  active: boolean;
  created_at: Date;
}

/** The distribution of the instance's real passkeys that decoys are drawn from (src/webauthn/decoy.ts); one row. */
export interface PasskeyShapesTable {
  id: number;
  shapes: Json<PasskeyShapes>;
  computed_at: Date;
}

/** Each list: a value and how many real accounts (or credentials) have it. */
export interface PasskeyShapes {
  perAccount: [number, number][];
  idBytes: [number, number][];
  transports: [string[], number][];
}

/** Facts about the running instance other processes read (the issuer the server serves, for the CLI's links). */
export interface InstanceSettingsTable {
  name: string;
  value: string;
  updated_at: Date;
}

/** The first-run setup link (src/setup/): one row (id 1), replaced by each new link. */
export interface SetupTokenTable {
  id: number;
  /** SHA-256 of the token; the token itself is only in the printed link's fragment. */
  token_hash: string;
  created_at: Date;
  expires_at: Date;
  used_at: Date | null;
}

export interface InstanceSecretsTable {
  name: string;
  value_enc: string;
  created_at: Date;
}

export type SigningKeyProviderName = 'envelope' | 'pkcs11';

export interface SigningKeysTable {
  kid: string;
  alg: string;
  public_jwk: Json<Record<string, unknown>>;
  /** Who holds the private half: `envelope` (sealed here under the master key) or `pkcs11` (an HSM token; never here). */
  provider: ColumnType<SigningKeyProviderName, SigningKeyProviderName | undefined, never>;
  /** envelope: the private JWK, sealed. Null for pkcs11. */
  private_jwk_enc: string | null;
  /** pkcs11: the token object's CKA_ID (hex). Null for envelope. */
  key_reference: string | null;
  created_at: Date;
  /** Signing starts here; it lies after created_at so every instance publishes the key before anyone signs with it. */
  active_from: Date;
  /** Unpublished from here on: set at rotation to the moment every token it signed has expired. */
  retire_at: Date | null;
  /** Withdrawn in an emergency rotation: unpublished at once (retire_at is the same moment), never trusted again. */
  withdrawn_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: Date;
  actor: string;
  action: string;
  subject: string | null;
  outcome: 'success' | 'failure';
  ip: string | null;
  user_agent: string | null;
  details: Json<Record<string, unknown>>;
  /** Random id inside the MAC: a copied entry is a duplicate, not a second event. Null on entries written before entries carried a MAC. */
  entry_id: string | null;
  /** HMAC made at append time with the audit-entry key (under the master key); the sealer chains only entries whose MAC holds. */
  mac: string | null;
  /** Why the sealer left this row out of the chain (no valid MAC, out of order); reported by `audit verify`. */
  seal_refused: string | null;
  /** Position in the hash chain, assigned when the sealer links the entry; null until then. */
  seq: number | null;
  prev_hash: string | null;
  hash: string | null;
}

/** How far the audit log has been shipped to a sink (WARTA_AUDIT_SINK); src/audit-sink/ship.ts. */
export interface AuditSinkCheckpointTable {
  /** The sink as configured, secrets-free: `stdout`, `file:/var/log/warta/audit.jsonl`, `syslog+tls://siem.example.gov:6514`. */
  sink: string;
  /** Chain position (`seq`) of the last entry the sink acknowledged; 0 before the first. */
  last_shipped_seq: number;
  /** Row id of that entry, for the status report. */
  last_shipped_id: number | null;
  updated_at: Date;
}

/** Anonymous failures of one action and key in one time window, waiting to become one audit entry (src/audit/anonymous-failures.ts). */
export interface AnonymousFailureCountsTable {
  id: Generated<number>;
  action: string;
  key: string;
  window_start: Date;
  window_seconds: number;
  count: number;
  first_at: Date;
  last_at: Date;
  last_ip: string | null;
}

/** Where `warta audit archive` cut the chain; the newest row is where `audit verify` starts (src/audit/archive.ts). */
export interface AuditArchivesTable {
  id: Generated<number>;
  /** The anchor this archive started from (0: the chain's genesis). */
  after_seq: number;
  /** The last archived entry: the remaining chain continues from it. */
  through_seq: number;
  head_hash: string;
  head_at: Date;
  entries: number;
  file_sha256: string;
  archived_at: Date;
  /** HMAC with the chain key over the cut, so the anchor cannot be moved without the master key. */
  mac: string;
}

export interface RateLimitsTable {
  key: string;
  failures: number;
  window_started_at: Date;
  blocked_until: Date | null;
  updated_at: Date;
}

export interface SessionsTable {
  id: string;
  /** SHA-256 of the cookie value. */
  token_hash: string;
  user_id: string;
  created_at: Date;
  last_seen_at: Date;
  idle_expires_at: Date;
  expires_at: Date;
  /** When the user last proved presence (sign-in or re-authentication). */
  auth_time: Date;
  /** RFC 8176 authentication method references of the sign-in. */
  amr: Json<string[]>;
  acr: string;
  ip: string | null;
  user_agent: string | null;
  revoked_at: Date | null;
  revoked_reason: string | null;
}

export interface PasswordCredentialsTable {
  user_id: string;
  /** argon2id PHC string of the NFKC-normalised password. */
  hash: string;
  created_at: Date;
  updated_at: Date;
}

export interface TotpCredentialsTable {
  id: string;
  /** One active TOTP credential per user. */
  user_id: string;
  /** The shared secret, sealed with context `totp <id>`. */
  secret_enc: string;
  algorithm: 'SHA1' | 'SHA256' | 'SHA512';
  digits: number;
  period: number;
  /** The last accepted time step: replay protection accepts only later steps. */
  last_used_step: number | null;
  created_at: Date;
  last_used_at: Date | null;
}

/** A TOTP secret shown for set-up, waiting for its first code; owned by a signed-in user or by an invitation. */
export interface TotpSetupsTable {
  id: string;
  user_id: string | null;
  invitation_id: string | null;
  /** Sealed with context `totp setup user:<id>` or `totp setup invitation:<id>`. */
  secret_enc: string;
  algorithm: 'SHA1' | 'SHA256' | 'SHA512';
  digits: number;
  period: number;
  created_at: Date;
  expires_at: Date;
}

export interface WebauthnUserHandlesTable {
  user_id: string;
  /** The WebAuthn user.id (base64url of 32 random bytes): never the user's id or name. */
  handle: string;
  created_at: Date;
}

export interface WebauthnCredentialsTable {
  id: string;
  user_id: string;
  /** base64url credential ID. */
  credential_id: string;
  /** base64url COSE public key. */
  public_key: string;
  sign_count: number;
  transports: Json<string[]>;
  aaguid: string;
  attestation_fmt: string;
  /** The model's name from FIDO metadata, when known. */
  authenticator_name: string | null;
  /** BE flag: true for a synced passkey (amr `swk`), false for a device-bound key (`hwk`). */
  backup_eligible: boolean;
  backed_up: boolean;
  name: string;
  created_at: Date;
  last_used_at: Date | null;
  /** Removed by its owner; kept for the audit trail and so it can never sign in again. */
  revoked_at: Date | null;
  /** Blocked by Warta (e.g. a signature counter that went backwards: a cloned authenticator). */
  blocked_at: Date | null;
  blocked_reason: string | null;
  /**
   * The most a sign-in with this passkey proves (webauthn/binding.ts): the
   * assurance of how it was bound. `phishing-resistant` (then `hardware` when
   * device-bound) or lower when it was added from a phishable session and not
   * yet confirmed.
   */
  bound_acr: string;
  bound_via: PasskeyBinding;
  /** When and by whom an `mfa`-bound passkey was confirmed (an officer at the desk, or the owner from a passkey session). */
  confirmed_at: Date | null;
  confirmed_by: string | null;
}

/** How a passkey came to the account: `unknown` only for passkeys older than the binding record (migration 0010). */
export type PasskeyBinding = 'invitation' | 'recovery' | 'passkey_session' | 'session' | 'unknown';

export type WebauthnCeremony = 'enrollment' | 'registration' | 'authentication' | 'reauthentication' | 'recovery' | 'authorization_challenge';

export interface WebauthnChallengesTable {
  id: string;
  /** SHA-256 of the challenge; looked up from the challenge in clientDataJSON. */
  challenge_hash: string;
  ceremony: WebauthnCeremony;
  user_id: string | null;
  session_id: string | null;
  invitation_id: string | null;
  /** The user.id offered in registration options. */
  user_handle: string | null;
  created_at: Date;
  expires_at: Date;
  used_at: Date | null;
}

export type Organisation = Selectable<OrganisationsTable>;
export type User = Selectable<UsersTable>;
export type Invitation = Selectable<InvitationsTable>;
export type RoleRequest = Selectable<RoleRequestsTable>;
export type NewInvitation = Insertable<InvitationsTable>;
export type Session = Selectable<SessionsTable>;
export type AuditEntry = Selectable<AuditLogTable>;
export type AuditArchive = Selectable<AuditArchivesTable>;
export type WebauthnCredential = Selectable<WebauthnCredentialsTable>;
export type WebauthnChallenge = Selectable<WebauthnChallengesTable>;

export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none' | 'tls_client_auth' | 'self_signed_tls_client_auth';

/** A relying party registered by an admin; column names follow RFC 7591 client metadata. */
export interface OAuthClientsTable {
  client_id: string;
  client_name: string;
  application_type: 'web' | 'native';
  token_endpoint_auth_method: TokenEndpointAuthMethod;
  /** keyedHash(tokenHashKey, secret): secrets are 256-bit random, shown once. */
  client_secret_hash: string | null;
  client_secret_issued_at: Date | null;
  /** Public keys for private_key_jwt, or the keys of self-signed certificates for self_signed_tls_client_auth (RFC 8705 §2.2). */
  jwks: Json<{ keys: Record<string, unknown>[] } | null> | null;
  redirect_uris: Json<string[]>;
  post_logout_redirect_uris: Json<string[]>;
  grant_types: Json<string[]>;
  /** Space-separated scopes the client may request. */
  scope: string;
  /** Operated by the Warta operator's organisation: no consent screen. */
  first_party: boolean;
  /** A first-party native app that signs users in with a passkey at the authorization challenge endpoint, without a browser (src/first-party/); only the operator sets it. */
  first_party_native: ColumnType<boolean, boolean | undefined, boolean>;
  /** An acr every sign-in to this client must reach (e.g. urn:warta:acr:phishing-resistant). */
  required_acr: string | null;
  /** RFC 9449 §5.2: token requests without DPoP are refused. */
  dpop_bound_access_tokens: boolean;
  /** `aud` of access tokens; the client_id when null. */
  access_token_audience: string | null;
  /** RFC 8705 §2.1.2: for tls_client_auth, exactly one subject value the client's certificate must carry (null for every other method). */
  tls_client_auth_subject_dn: ColumnType<string | null, string | null | undefined, string | null>;
  tls_client_auth_san_dns: ColumnType<string | null, string | null | undefined, string | null>;
  tls_client_auth_san_uri: ColumnType<string | null, string | null | undefined, string | null>;
  tls_client_auth_san_ip: ColumnType<string | null, string | null | undefined, string | null>;
  tls_client_auth_san_email: ColumnType<string | null, string | null | undefined, string | null>;
  /** RFC 8705 §3.4: access tokens are bound to the client certificate of the token request (which must present one). */
  tls_client_certificate_bound_access_tokens: ColumnType<boolean, boolean | undefined, boolean>;
  backchannel_logout_uri: string | null;
  backchannel_logout_session_required: boolean;
  /** The organisation whose admins manage the client and whose users sign in to it; null: the instance operator's (any organisation's users). */
  organisation_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** An organisation's client that also accepts users of other organisations; only the operator sets it. */
  cross_organisation_sign_in: ColumnType<boolean, boolean | undefined, boolean>;
  /** RFC 9449 §8, §9: DPoP proofs must carry a server-provided nonce (see oidc/dpop-nonce.ts). */
  require_dpop_nonce: ColumnType<boolean, boolean | undefined, boolean>;
  /** Access-token audiences whose tokens this resource server may introspect besides its own; only the operator sets it. */
  introspection_audiences: ColumnType<string[], string | undefined, string>;
  created_at: Date;
  updated_at: Date;
  /** Suspended by the operator (src/incident/): no authorization, token or introspection request, no access token in force, until resumed. */
  suspended_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  suspended_reason: ColumnType<string | null, string | null | undefined, string | null>;
  suspended_by: ColumnType<string | null, string | null | undefined, string | null>;
  /** The client's own security profile (src/clients/security-profile.ts); its owner's default and the instance floor may raise it. */
  security_profile: ColumnType<'baseline' | 'fapi2', 'baseline' | 'fapi2' | undefined, 'baseline' | 'fapi2'>;
  /** RFC 9126 §6: /authorize takes only a request_uri from PAR; implied by the fapi2 profile. */
  require_pushed_authorization_requests: ColumnType<boolean, boolean | undefined, boolean>;
  /** OIDC Core §8: `pairwise` gives each sector its own `sub` for a person (src/oidc/subject.ts). */
  subject_type: ColumnType<'public' | 'pairwise', 'public' | 'pairwise' | undefined, 'public' | 'pairwise'>;
  /** The pairwise sector the operator named; null: the one host of the redirect URIs. */
  sector_identifier: ColumnType<string | null, string | null | undefined, string | null>;
  /** Group paths one of which a user must be in (or under) to sign in; empty: no requirement (src/oidc/checks/requirements.ts). */
  required_groups: ColumnType<string[], string | undefined, string>;
  /** Attribute name → the values one of which the user must hold, for every name listed. */
  required_attributes: ColumnType<Record<string, AttributeValue[]>, string | undefined, string>;
}

/** One user's authorization of one client: the family of every code, refresh and access token issued from it. */
export interface OAuthGrantsTable {
  id: string;
  client_id: string;
  user_id: string;
  /** The Warta session (the ID token's sid); grants without offline_access end with it. */
  session_id: string | null;
  scope: string;
  offline: boolean;
  auth_time: Date;
  acr: string;
  amr: Json<string[]>;
  /** RFC 9449: refresh tokens of a public client are bound to this key. */
  dpop_jkt: string | null;
  /** RFC 8705 §4: refresh tokens of a public client are bound to the certificate with this `x5t#S256` thumbprint. */
  mtls_x5t: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: Date;
  /** No refresh token of the family outlives this. */
  expires_at: Date;
  revoked_at: Date | null;
  revoked_reason: string | null;
}

export interface OAuthAuthorizationCodesTable {
  code_hash: string;
  grant_id: string;
  client_id: string;
  /** Null for a code from the authorization challenge endpoint: it went to no redirect URI. */
  redirect_uri: string | null;
  code_challenge: string;
  nonce: string | null;
  dpop_jkt: string | null;
  created_at: Date;
  expires_at: Date;
  used_at: Date | null;
}

export interface OAuthRefreshTokensTable {
  token_hash: string;
  grant_id: string;
  created_at: Date;
  expires_at: Date;
  /** Set when rotated: presenting it again is reuse, which revokes the grant. */
  used_at: Date | null;
}

/** A validated authorization request waiting for sign-in or consent, or pushed by the client (RFC 9126). */
export interface OAuthAuthorizationRequestsTable {
  id_hash: string;
  /** `challenge`: an auth_session of the authorization challenge endpoint (src/first-party/). */
  kind: 'pushed' | 'interactive' | 'challenge';
  client_id: string;
  params: Json<Record<string, unknown>>;
  /** Times the browser was sent back to the sign-in page for it (a loop guard). */
  sign_in_rounds: Generated<number>;
  created_at: Date;
  expires_at: Date;
  used_at: Date | null;
}

export interface OAuthConsentsTable {
  user_id: string;
  client_id: string;
  scope: string;
  granted_at: Date;
}

/** Single-use jtis (DPoP proofs, client assertions), remembered until they could no longer be accepted. */
export interface OAuthSeenJtisTable {
  key: string;
  expires_at: Date;
}

export interface OAuthRevokedAccessTokensTable {
  jti: string;
  expires_at: Date;
}

/** Outbox of OpenID Connect Back-Channel Logout notifications. */
export interface BackchannelLogoutsTable {
  id: string;
  client_id: string;
  user_id: string;
  session_id: string;
  created_at: Date;
  next_attempt_at: Date;
  attempts: number;
  delivered_at: Date | null;
  abandoned_at: Date | null;
  last_error: string | null;
}

export type OAuthClient = Selectable<OAuthClientsTable>;
export type OAuthGrant = Selectable<OAuthGrantsTable>;

export const json = (value: unknown): string => JSON.stringify(value);

/** A security event as the user sees it (account page banner and history); src/events/. */
export interface SecurityEventsTable {
  id: string;
  organisation_id: string;
  /** Null for an event about the instance itself (a withdrawn signing key), sent to every receiver of the organisation. */
  user_id: string | null;
  /** A Warta event type name (src/events/types.ts), e.g. `credential_change`. */
  type: string;
  details: Json<Record<string, unknown>>;
  initiating_entity: 'admin' | 'user' | 'policy' | 'system' | null;
  /** RFC 8417 `txn`: correlates the SETs of one action. */
  txn: string | null;
  /** Shown to the user ("… from 192.0.2.7"); never sent to receivers. */
  ip: string | null;
  occurred_at: Date;
  /** Assigned by the database: the order events were written in, for events of the same millisecond. */
  seq: Generated<string>;
}

/** An endpoint an admin registered to receive Security Event Tokens (RFC 8935 push). */
export interface EventReceiversTable {
  id: string;
  organisation_id: string;
  url: string;
  /** The SET `aud` this receiver expects. */
  audience: string;
  /** Subscribed Warta event type names; null for all. */
  events: ColumnType<string[] | null, string | null, string | null>;
  /** Bearer token for the receiver's endpoint, sealed with context `event receiver <id>`; never shown. */
  bearer_token_enc: string | null;
  created_by: string;
  created_at: Date;
  removed_at: Date | null;
  consecutive_failures: number;
  failing_since: Date | null;
  last_success_at: Date | null;
  last_failure_at: Date | null;
  last_error: string | null;
}

export type SetDeliveryStatus = 'pending' | 'delivered' | 'rejected' | 'abandoned' | 'cancelled';

/** One SET to push to one receiver; claimed by delivery workers with FOR UPDATE SKIP LOCKED. */
export interface SetOutboxTable {
  id: Generated<number>;
  jti: string;
  receiver_id: string;
  event_id: string;
  /** The event's user; null for an event about the instance (delivered in no per-user order). */
  user_id: string | null;
  status: SetDeliveryStatus;
  created_at: Date;
  next_attempt_at: Date;
  locked_until: Date | null;
  claim_id: string | null;
  attempts: number;
  last_error: string | null;
  finished_at: Date | null;
}

export type SecurityEventRow = Selectable<SecurityEventsTable>;
export type EventReceiver = Selectable<EventReceiversTable>;

/**
 * Open: `pending` (waiting for a second officer) → `approved` (a code was issued)
 * → `redeemed` (the code was used; the enrollment grant is out); `disputed` (the
 * user said "not me" from a signed-in session before the code was used; frozen
 * until an officer continues it or rejects it). Closed: `completed`, `rejected`,
 * `cancelled` (by the user, before disputes existed), `expired`, `locked` (too many wrong codes).
 */
export type RecoveryCaseStatus = 'pending' | 'approved' | 'redeemed' | 'completed' | 'rejected' | 'cancelled' | 'expired' | 'locked' | 'disputed';
export const OPEN_RECOVERY_STATUSES: readonly RecoveryCaseStatus[] = ['pending', 'approved', 'redeemed', 'disputed'];

/** An in-person account recovery (src/recovery/): opened by one officer, approved by another, redeemed by the user. */
export interface RecoveryCasesTable {
  id: string;
  organisation_id: string;
  user_id: string;
  status: RecoveryCaseStatus;
  reason: string;
  /** The identity check at the desk: the document's type and only its last four characters, never the full number. */
  document_type: string;
  document_last4: string;
  identity_note: string;
  opened_by: string;
  opened_desk: string;
  opened_at: Date;
  /** A pending case nobody approved by then expires. */
  expires_at: Date;
  approved_by: string | null;
  approved_desk: string | null;
  approved_at: Date | null;
  /** argon2id of the recovery code; the code itself is only ever on the printed slip. */
  code_hash: string | null;
  code_expires_at: Date | null;
  code_attempts: Generated<number>;
  code_max_attempts: number | null;
  redeemed_at: Date | null;
  /** SHA-256 of the enrollment grant the redeemed code gave the user's browser. */
  grant_hash: string | null;
  grant_expires_at: Date | null;
  closed_at: Date | null;
  closed_by: string | null;
  closed_desk: string | null;
  close_reason: string | null;
  /** The status a disputed case goes back to when an officer continues it. */
  disputed_from: ColumnType<'pending' | 'approved' | null, 'pending' | 'approved' | null | undefined, 'pending' | 'approved' | null>;
  disputed_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** The person holds admin or recovery_officer: two officers are not enough, an admin co-approves (src/recovery/co-approve.ts). */
  requires_admin: ColumnType<boolean, boolean | undefined, boolean>;
  admin_approved_by: ColumnType<string | null, string | null | undefined, string | null>;
  admin_approved_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export type RecoveryCase = Selectable<RecoveryCasesTable>;

/** What the user sees of one refresh-token family (oauth_grants row): src/devices/. Keyed by the grant, so the device id is the grant id. */
export interface DevicesTable {
  grant_id: string;
  user_id: string;
  /** From the client's `device_name` authorization parameter, else "Client on Platform"; the user may rename it. */
  name: string;
  platform: string;
  user_agent: string | null;
  first_ip: string | null;
  last_ip: string | null;
  created_at: Date;
  /** Sign-in, then every refresh. */
  last_used_at: Date;
}

export type Device = Selectable<DevicesTable>;

/** A connection or a transaction: a kysely Transaction is a Kysely, so functions that may run in either take this. */
export type Db = Kysely<Database>;

/** A group of an organisation's hierarchy (ministry → department → unit); `parent_id` is in the same organisation, and a move never makes a cycle (groups/move.ts). */
export interface GroupsTable {
  id: string;
  organisation_id: string;
  parent_id: string | null;
  /** Unique among its siblings (case-insensitively); never contains `/`, which separates a path's names. */
  name: string;
  /** The directory's id for the group (SCIM `externalId`), unique in the organisation. */
  external_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** Flagged by an admin: changes to it and its subgroups take a second admin (groups/sensitive.ts). */
  sensitive: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: Date;
  /** When its name, external id or members last changed (SCIM `meta.lastModified`). */
  updated_at: Date;
}
export type Group = Selectable<GroupsTable>;

/** A user's direct membership of a group. */
export interface GroupMembersTable {
  group_id: string;
  user_id: string;
  added_at: Date;
}

export type AttributeType = 'string' | 'integer' | 'boolean' | 'enum';
export const ATTRIBUTE_TYPES: readonly AttributeType[] = ['string', 'integer', 'boolean', 'enum'];
export type AttributeValue = string | number | boolean;

/** A typed attribute an organisation keeps about its people (clearance_level, employee_id, position …). */
export interface AttributeDefinitionsTable {
  id: string;
  organisation_id: string;
  name: string;
  type: AttributeType;
  /** The values an `enum` attribute may take, in order; null for every other type. */
  allowed_values: Json<string[] | null> | null;
  /** Flagged by an admin: setting or clearing a value takes a second admin (attributes/sensitive.ts). */
  sensitive: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: Date;
}
export type AttributeDefinition = Selectable<AttributeDefinitionsTable>;

export interface UserAttributesTable {
  user_id: string;
  definition_id: string;
  value: Json<AttributeValue>;
  updated_at: Date;
}

export type ChangeRequestKind = 'attribute.set' | 'attribute.unflag' | 'group.add_member' | 'group.remove_member' | 'group.unflag' | 'group.move';
export type ChangeRequestStatus = 'pending' | 'approved' | 'rejected' | 'expired';

/** What a change request will do, by kind: the value to set (null clears it), or a group's new parent and name. */
export type RequestedChange = { value: AttributeValue | null } | { parent_id: string | null; name: string; old_path: string; new_path: string } | Record<string, never>;

/** One admin's ask to change something sensitive, waiting for a different admin (src/change-requests/). */
export interface ChangeRequestsTable {
  id: string;
  organisation_id: string;
  kind: ChangeRequestKind;
  /** The person the change is about (a value, a membership); null for a flag or a move. */
  user_id: ColumnType<string | null, string | null | undefined, string | null>;
  group_id: ColumnType<string | null, string | null | undefined, string | null>;
  definition_id: ColumnType<string | null, string | null | undefined, string | null>;
  change: Json<RequestedChange>;
  reason: ColumnType<string | null, string | null | undefined, string | null>;
  requested_by: string;
  requested_at: Date;
  expires_at: Date;
  status: ChangeRequestStatus;
  /** The admin who approved (never the asker, never the person) or rejected it; null for the operator's CLI or an expiry. */
  decided_by: ColumnType<string | null, string | null | undefined, string | null>;
  decided_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}
export type ChangeRequest = Selectable<ChangeRequestsTable>;
