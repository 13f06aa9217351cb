import { calculateJwkThumbprint, type JWK, type JWTPayload } from 'jose';
import { type Kysely, sql, type Transaction } from 'kysely';
import { addSeconds, type Clock } from '../clock.js';
import { type Database, json } from '../db/schema.js';
import { EnvelopeKeyProvider } from './envelope-key-provider.js';
import type { SigningAlg, SigningKeyProvider, StoredSigningKey } from './key-provider.js';
import type { SecretBox } from './secret-box.js';

export const SIGNING_ALG: SigningAlg = 'ES256';

export interface ActiveSigningKey {
  kid: string;
  alg: string;
  /** The encoded JWS Protected Header (`alg`, `kid`, `typ`) for a token type, made once per key and type. */
  protectedHeader(typ: string): string;
  /** The JWS signature of a signing input, made by the provider that holds the key. */
  sign(signingInput: Buffer): Promise<Buffer>;
}

/**
 * What the signing-key functions need. Without `signingKeyProvider`, the
 * envelope provider over `box`: what every key was before providers.
 */
export interface SigningKeyDeps {
  box: SecretBox;
  clock: Clock;
  signingKeyProvider?: SigningKeyProvider;
}

const providerOf = (deps: SigningKeyDeps) => deps.signingKeyProvider ?? new EnvelopeKeyProvider(deps.box);

interface Snapshot {
  loadedAt: number;
  jwks: { keys: JWK[] };
  active: ActiveSigningKey;
}

const encode = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

/** A key's encoded protected headers by `typ`: the few token types Warta signs, each encoded once. */
function protectedHeaders(kid: string, alg: string): (typ: string) => string {
  const byTyp = new Map<string, string>();
  return (typ) => {
    let header = byTyp.get(typ);
    if (header === undefined) {
      header = encode({ alg, kid, typ });
      byTyp.set(typ, header);
    }
    return header;
  };
}

/**
 * The keys Warta signs with, shared by every instance through the database. A
 * rotated-in key is published `publishAheadSeconds` (the cache lifetime) before
 * anyone signs with it, so no relying party meets a `kid` it has not seen in the
 * JWKS; a rotated-out key stays published until every token it signed has expired.
 *
 * Only keys the configured provider holds are published, each checked against
 * the provider's own public key: a row written into the database by someone
 * without the master key (or the HSM) names a key that is not there, and stays
 * unpublished.
 */
export class SigningKeys {
  private snapshot: Snapshot | undefined;
  private loading: Promise<Snapshot> | undefined;
  private readonly provider: SigningKeyProvider;

  constructor(
    private readonly deps: SigningKeyDeps & { db: Kysely<Database> },
    private readonly options: { cacheSeconds: number; maxTokenLifetimeSeconds: number },
  ) {
    this.provider = providerOf(deps);
  }

  async jwks(): Promise<{ keys: JWK[] }> {
    return (await this.current()).jwks;
  }

  async activeKey(): Promise<ActiveSigningKey> {
    return (await this.current()).active;
  }

  /** A compact JWS (RFC 7515 §7.1) of `payload`, signed with the active key. */
  async sign(payload: JWTPayload, header: { typ: string }): Promise<string> {
    const key = this.freshSnapshot()?.active ?? (await this.activeKey());
    const input = `${key.protectedHeader(header.typ)}.${encode(payload)}`;
    const signature = await key.sign(Buffer.from(input, 'ascii'));
    return `${input}.${signature.toString('base64url')}`;
  }

  /** Forget the cached keys (after a rotation in this process, and in tests). */
  invalidate(): void {
    this.snapshot = undefined;
    this.loading = undefined;
  }

  /** The cached keys while they are current: what nearly every request finds, without waiting a turn. */
  private freshSnapshot(now = this.deps.clock.now()): Snapshot | undefined {
    const snapshot = this.snapshot;
    return snapshot && now.getTime() - snapshot.loadedAt < this.options.cacheSeconds * 1000 ? snapshot : undefined;
  }

  private async current(): Promise<Snapshot> {
    const now = this.deps.clock.now();
    const snapshot = this.freshSnapshot(now);
    if (snapshot) return snapshot;
    // One reload for every request that finds the cache expired, not one each: under load an expiry
    // otherwise sends as many identical queries (and key checks) as there are requests in flight.
    // A reload begun before invalidate() is not joined: it may predate the rotation.
    let loading = this.loading;
    if (!loading) {
      loading = this.load(now);
      this.loading = loading;
      const settle = () => {
        if (this.loading === loading) this.loading = undefined;
      };
      loading.then((loaded) => {
        if (this.loading === loading) this.snapshot = loaded;
        settle();
      }, settle);
    }
    return loading;
  }

  private async load(now: Date): Promise<Snapshot> {
    const rows = await this.deps.db
      .selectFrom('signing_keys')
      .selectAll()
      .where('provider', '=', this.provider.name)
      .where((eb) => eb.or([eb('retire_at', 'is', null), eb('retire_at', '>', now)]))
      .orderBy('active_from', 'desc')
      .execute();
    const held = [];
    for (const row of rows) if (await this.holds(row)) held.push(row);
    const signing = rows.find((row) => row.active_from <= now);
    if (!signing) throw new Error('no active signing key: run migrations and start Warta once (ensureSigningKey)');
    if (!held.includes(signing)) throw new Error(`signing key ${signing.kid} is not held by the ${this.provider.name} provider: its row does not match the key, or the key is gone`);
    const provider = this.provider;
    return {
      loadedAt: now.getTime(),
      jwks: { keys: held.map((row) => row.public_jwk as JWK) },
      active: { kid: signing.kid, alg: signing.alg, protectedHeader: protectedHeaders(signing.kid, signing.alg), sign: (input) => provider.sign(signing, input) },
    };
  }

  /** The provider has the key the row names, and it is the row's public key. */
  private async holds(row: StoredSigningKey & { public_jwk: unknown }): Promise<boolean> {
    try {
      const held = await calculateJwkThumbprint(await this.provider.publicJwk(row));
      return held === row.kid && (await calculateJwkThumbprint(row.public_jwk as JWK)) === row.kid;
    } catch {
      return false;
    }
  }
}

async function newKeyRow(provider: SigningKeyProvider, createdAt: Date, activeFrom: Date) {
  const key = await provider.generate(SIGNING_ALG);
  return {
    kid: key.kid,
    alg: key.alg,
    public_jwk: json(key.publicJwk),
    ...key.reference,
    created_at: createdAt,
    active_from: activeFrom,
    retire_at: null,
    withdrawn_at: null,
  };
}

// Arbitrary constant naming "signing key bootstrap" for pg_advisory_xact_lock.
const BOOTSTRAP_LOCK = 7_114_000_001;

/**
 * Creates the first signing key of the configured provider unless it has one;
 * safe when instances start together. After a switch of provider the other
 * provider's keys are retired at once: this instance can neither sign with nor
 * vouch for them.
 */
export async function ensureSigningKey(deps: SigningKeyDeps & { db: Kysely<Database> }): Promise<boolean> {
  const provider = providerOf(deps);
  return deps.db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(${BOOTSTRAP_LOCK})`.execute(trx);
    const existing = await trx.selectFrom('signing_keys').select('kid').where('provider', '=', provider.name).where('retire_at', 'is', null).limit(1).executeTakeFirst();
    if (existing) return false;
    const now = deps.clock.now();
    await trx.updateTable('signing_keys').set({ retire_at: now }).where('retire_at', 'is', null).execute();
    await trx.insertInto('signing_keys').values(await newKeyRow(provider, now, now)).execute();
    return true;
  });
}

export interface RotationResult {
  kid: string;
  activeFrom: Date;
  retired: { kid: string; retireAt: Date }[];
}

/**
 * Adds a new signing key. It signs from `now + publishAheadSeconds`; the keys it
 * replaces are unpublished once every token they signed can have expired.
 */
export async function rotateSigningKey(
  deps: SigningKeyDeps & { db: Kysely<Database> },
  options: { publishAheadSeconds: number; maxTokenLifetimeSeconds: number },
): Promise<RotationResult> {
  return deps.db.transaction().execute((trx) => addSigningKey(trx, deps, options));
}

/** rotateSigningKey inside the caller's transaction, so its audit entry commits with it. */
export async function addSigningKey(trx: Transaction<Database>, deps: SigningKeyDeps, options: { publishAheadSeconds: number; maxTokenLifetimeSeconds: number }): Promise<RotationResult> {
  const now = deps.clock.now();
  const activeFrom = addSeconds(now, options.publishAheadSeconds);
  const retireAt = addSeconds(activeFrom, options.maxTokenLifetimeSeconds);
  const row = await newKeyRow(providerOf(deps), now, activeFrom);
  await sql`select pg_advisory_xact_lock(${BOOTSTRAP_LOCK})`.execute(trx);
  const replaced = await trx.updateTable('signing_keys').set({ retire_at: retireAt }).where('retire_at', 'is', null).returning(['kid']).execute();
  await trx.insertInto('signing_keys').values(row).execute();
  return { kid: row.kid, activeFrom, retired: replaced.map((r) => ({ kid: r.kid, retireAt })) };
}

export interface WithdrawalResult {
  kid: string;
  withdrawn: string[];
}

/**
 * The emergency rotation, inside the caller's transaction: every key still
 * published (signing, retiring, or published ahead) is withdrawn now, unpublished
 * at once, and a new key signs from now. No publish-ahead: a relying party that
 * meets the new `kid` before its cached JWKS has it must re-read the JWKS, which
 * is what the withdrawal event asks of it anyway.
 */
export async function withdrawSigningKeys(trx: Transaction<Database>, deps: SigningKeyDeps): Promise<WithdrawalResult> {
  await sql`select pg_advisory_xact_lock(${BOOTSTRAP_LOCK})`.execute(trx);
  const now = deps.clock.now();
  const withdrawn = await trx
    .updateTable('signing_keys')
    .set({ retire_at: now, withdrawn_at: now })
    .where((eb) => eb.or([eb('retire_at', 'is', null), eb('retire_at', '>', now)]))
    .returning('kid')
    .execute();
  const row = await newKeyRow(providerOf(deps), now, now);
  await trx.insertInto('signing_keys').values(row).execute();
  return { kid: row.kid, withdrawn: withdrawn.map((r) => r.kid) };
}
