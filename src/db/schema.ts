import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

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
  signing_keys: SigningKeysTable;
  audit_log: AuditLogTable;
  rate_limits: RateLimitsTable;
  sessions: SessionsTable;
}

/** jsonb columns: written as a JSON string, read back parsed. */
export type Json<T> = ColumnType<T, string, string>;

export type Role = 'member' | 'recovery_officer' | 'admin';
export const ROLES: readonly Role[] = ['member', 'recovery_officer', 'admin'];

export interface OrganisationsTable {
  id: string;
  name: string;
  /** Per-organisation policy (authenticator attestation, TOTP, recovery …); see orgs/policy.ts. */
  policy: Json<Record<string, unknown>>;
  created_at: Date;
}

export interface UsersTable {
  id: string;
  organisation_id: string;
  /** Sign-in name; unique case-insensitively. */
  username: string;
  display_name: string;
  email: string | null;
  employee_id: string | null;
  status: 'active' | 'disabled';
  created_at: Date;
  updated_at: Date;
}

export interface UserRolesTable {
  user_id: string;
  role: Role;
  granted_at: Date;
}

export interface InvitationsTable {
  id: string;
  organisation_id: string;
  /** SHA-256 of the token; the token itself is only ever in the invitation link. */
  token_hash: string;
  display_name: string;
  email: string | null;
  employee_id: string | null;
  role: Role;
  created_by: string | null;
  created_at: Date;
  expires_at: Date;
  redeemed_at: Date | null;
  redeemed_by: string | null;
  revoked_at: Date | null;
}

export interface DataKeysTable {
  id: string;
  /** The data-encryption key, AES-256-GCM-wrapped with the master key. */
  wrapped_key: string;
  master_key_id: string;
  active: boolean;
  created_at: Date;
}

export interface InstanceSecretsTable {
  name: string;
  value_enc: string;
  created_at: Date;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  public_jwk: Json<Record<string, unknown>>;
  private_jwk_enc: string;
  created_at: Date;
  /** Signing starts here; it lies after created_at so every instance publishes the key before anyone signs with it. */
  active_from: Date;
  /** Unpublished from here on: set at rotation to the moment every token it signed has expired. */
  retire_at: Date | null;
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
  /** Position in the hash chain, assigned when the sealer links the entry; null until then. */
  seq: number | null;
  prev_hash: string | null;
  hash: string | null;
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

export type Organisation = Selectable<OrganisationsTable>;
export type User = Selectable<UsersTable>;
export type Invitation = Selectable<InvitationsTable>;
export type NewInvitation = Insertable<InvitationsTable>;
export type Session = Selectable<SessionsTable>;
export type AuditEntry = Selectable<AuditLogTable>;

export const json = (value: unknown): string => JSON.stringify(value);
