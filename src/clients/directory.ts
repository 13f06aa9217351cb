import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database, OAuthClient } from '../db/schema.js';
import { organisationClientProfile, type SecurityProfile } from './security-profile.js';
import { findClient } from './service.js';

/** Most clients one instance remembers; a registry larger than this just misses more. */
const MAX_ENTRIES = 1000;

/**
 * Registered clients as the back-channel endpoints see them, remembered per instance
 * for `ttlSeconds` (like SigningKeys' snapshot): the token endpoint then checks a
 * client secret with an HMAC and no database round trip. The price is bounded: an
 * old secret or a deleted client is still accepted here for at most `ttlSeconds`
 * after the change (a new secret works at once: a mismatch re-reads the record).
 * Unknown client_ids are never remembered (they would let anyone fill the cache),
 * and 0 turns the cache off.
 */
export class ClientDirectory {
  private readonly entries = new Map<string, { client: OAuthClient; loadedAt: number }>();
  private readonly organisationProfiles = new Map<string, { profile: SecurityProfile; loadedAt: number }>();
  /** Reads in flight, by client_id: at most one per client, and only for ids the database was already asked about. */
  private readonly loading = new Map<string, Promise<OAuthClient | undefined>>();

  constructor(private readonly deps: { db: Kysely<Database>; clock: Clock; ttlSeconds: number }) {}

  /** The client, from memory when read less than ttlSeconds ago unless `fresh`. */
  async find(clientId: string, options: { fresh?: boolean } = {}): Promise<OAuthClient | undefined> {
    const now = this.deps.clock.now().getTime();
    const cached = this.entries.get(clientId);
    if (cached && !options.fresh && now - cached.loadedAt < this.deps.ttlSeconds * 1000) return cached.client;
    // When the entry expires under load, the requests in flight share one read instead of each sending the
    // same query. A `fresh` read (a secret just failed: it may have been rotated) never joins one begun earlier.
    if (options.fresh || this.deps.ttlSeconds === 0) return this.load(clientId, now);
    const pending = this.loading.get(clientId);
    if (pending) return pending;
    const loading: Promise<OAuthClient | undefined> = this.load(clientId, now).finally(() => {
      if (this.loading.get(clientId) === loading) this.loading.delete(clientId);
    });
    this.loading.set(clientId, loading);
    return loading;
  }

  private async load(clientId: string, now: number): Promise<OAuthClient | undefined> {
    const client = await findClient(this.deps.db, clientId);
    if (!client || this.deps.ttlSeconds === 0) {
      this.entries.delete(clientId);
      return client;
    }
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(clientId, { client, loadedAt: now });
    return client;
  }

  /** The security profile an organisation's policy holds its clients to, remembered like the clients (a raised default takes effect within ttlSeconds). */
  async organisationClientProfile(organisationId: string): Promise<SecurityProfile> {
    const now = this.deps.clock.now().getTime();
    const cached = this.organisationProfiles.get(organisationId);
    if (cached && now - cached.loadedAt < this.deps.ttlSeconds * 1000) return cached.profile;
    const row = await this.deps.db.selectFrom('organisations').select('policy').where('id', '=', organisationId).executeTakeFirst();
    const profile = organisationClientProfile(row?.policy);
    if (!row || this.deps.ttlSeconds === 0) return profile;
    if (this.organisationProfiles.size >= MAX_ENTRIES) this.organisationProfiles.delete(this.organisationProfiles.keys().next().value!);
    this.organisationProfiles.set(organisationId, { profile, loadedAt: now });
    return profile;
  }

  /** Drops the remembered record, so this instance sees a change (a suspension) at once. */
  forget(clientId: string): void {
    this.entries.delete(clientId);
    this.loading.delete(clientId);
  }
}
