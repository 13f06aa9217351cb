import { type CryptoKey, type JWK, type JWTPayload, exportJWK, generateKeyPair, importJWK, SignJWT, calculateJwkThumbprint } from 'jose';
import { type Kysely, sql, type Transaction } from 'kysely';
import { addSeconds, type Clock } from '../clock.js';
import { type Database, json } from '../db/schema.js';
import type { SecretBox } from './secret-box.js';

export const SIGNING_ALG = 'ES256';
const SEAL_CONTEXT = (kid: string) => `signing key ${kid}`;

export interface ActiveSigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
}

interface Snapshot {
  loadedAt: number;
  jwks: { keys: JWK[] };
  active: ActiveSigningKey;
}

/**
 * The ES256 keys Warta signs with, shared by every instance through the
 * database. A rotated-in key is published `publishAheadSeconds` (the cache
 * lifetime) before anyone signs with it, so no relying party meets a `kid` it
 * has not seen in the JWKS; a rotated-out key stays published until every token
 * it signed has expired.
 */
export class SigningKeys {
  private snapshot: Snapshot | undefined;

  constructor(
    private readonly deps: { db: Kysely<Database>; box: SecretBox; clock: Clock },
    private readonly options: { cacheSeconds: number; maxTokenLifetimeSeconds: number },
  ) {}

  async jwks(): Promise<{ keys: JWK[] }> {
    return (await this.current()).jwks;
  }

  async activeKey(): Promise<ActiveSigningKey> {
    return (await this.current()).active;
  }

  async sign(payload: JWTPayload, header: { typ: string }): Promise<string> {
    const key = await this.activeKey();
    return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: header.typ }).sign(key.privateKey);
  }

  /** Forget the cached keys (after a rotation in this process, and in tests). */
  invalidate(): void {
    this.snapshot = undefined;
  }

  private async current(): Promise<Snapshot> {
    const now = this.deps.clock.now();
    const fresh = this.snapshot && now.getTime() - this.snapshot.loadedAt < this.options.cacheSeconds * 1000;
    if (!fresh) this.snapshot = await this.load(now);
    return this.snapshot!;
  }

  private async load(now: Date): Promise<Snapshot> {
    const rows = await this.deps.db
      .selectFrom('signing_keys')
      .selectAll()
      .where((eb) => eb.or([eb('retire_at', 'is', null), eb('retire_at', '>', now)]))
      .orderBy('active_from', 'desc')
      .execute();
    const signing = rows.find((row) => row.active_from <= now);
    if (!signing) throw new Error('no active signing key: run migrations and start Warta once (ensureSigningKey)');
    const jwk = JSON.parse(this.deps.box.openText(signing.private_jwk_enc, SEAL_CONTEXT(signing.kid))) as JWK;
    const privateKey = (await importJWK(jwk, signing.alg)) as CryptoKey;
    return {
      loadedAt: now.getTime(),
      jwks: { keys: rows.map((row) => row.public_jwk as JWK) },
      active: { kid: signing.kid, alg: signing.alg, privateKey },
    };
  }
}

async function newKeyRow(box: SecretBox, createdAt: Date, activeFrom: Date) {
  const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const privateJwk = await exportJWK(privateKey);
  return {
    kid,
    alg: SIGNING_ALG,
    public_jwk: json({ ...publicJwk, kid, alg: SIGNING_ALG, use: 'sig' }),
    private_jwk_enc: box.seal(JSON.stringify(privateJwk), SEAL_CONTEXT(kid)),
    created_at: createdAt,
    active_from: activeFrom,
    retire_at: null,
    withdrawn_at: null,
  };
}

// Arbitrary constant naming "signing key bootstrap" for pg_advisory_xact_lock.
const BOOTSTRAP_LOCK = 7_114_000_001;

/** Creates the first signing key unless one exists; safe when instances start together. */
export async function ensureSigningKey(deps: { db: Kysely<Database>; box: SecretBox; clock: Clock }): Promise<boolean> {
  return deps.db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(${BOOTSTRAP_LOCK})`.execute(trx);
    const existing = await trx.selectFrom('signing_keys').select('kid').limit(1).executeTakeFirst();
    if (existing) return false;
    const now = deps.clock.now();
    await trx.insertInto('signing_keys').values(await newKeyRow(deps.box, now, now)).execute();
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
  deps: { db: Kysely<Database>; box: SecretBox; clock: Clock },
  options: { publishAheadSeconds: number; maxTokenLifetimeSeconds: number },
): Promise<RotationResult> {
  return deps.db.transaction().execute((trx) => addSigningKey(trx, deps, options));
}

/** rotateSigningKey inside the caller's transaction, so its audit entry commits with it. */
export async function addSigningKey(trx: Transaction<Database>, deps: { box: SecretBox; clock: Clock }, options: { publishAheadSeconds: number; maxTokenLifetimeSeconds: number }): Promise<RotationResult> {
  const now = deps.clock.now();
  const activeFrom = addSeconds(now, options.publishAheadSeconds);
  const retireAt = addSeconds(activeFrom, options.maxTokenLifetimeSeconds);
  const row = await newKeyRow(deps.box, now, activeFrom);
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
export async function withdrawSigningKeys(trx: Transaction<Database>, deps: { box: SecretBox; clock: Clock }): Promise<WithdrawalResult> {
  await sql`select pg_advisory_xact_lock(${BOOTSTRAP_LOCK})`.execute(trx);
  const now = deps.clock.now();
  const withdrawn = await trx
    .updateTable('signing_keys')
    .set({ retire_at: now, withdrawn_at: now })
    .where((eb) => eb.or([eb('retire_at', 'is', null), eb('retire_at', '>', now)]))
    .returning('kid')
    .execute();
  const row = await newKeyRow(deps.box, now, now);
  await trx.insertInto('signing_keys').values(row).execute();
  return { kid: row.kid, withdrawn: withdrawn.map((r) => r.kid) };
}
