import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Kysely } from 'kysely';
import { appendAudit } from './audit/audit.js';
import { type Clock, systemClock } from './clock.js';
import type { Config } from './config.js';
import { loadMasterKey, type MasterKey } from './crypto/master-key.js';
import { instanceSecret, openSecretBox, type SecretBox } from './crypto/secret-box.js';
import { ensureSigningKey, SigningKeys } from './crypto/signing-keys.js';
import { connectDatabase, type DatabaseHandle } from './db/connect.js';
import { migrateToLatest } from './db/migrate.js';
import type { Database } from './db/schema.js';
import { createLogger, type Logger } from './log.js';
import type { FidoMetadata } from './webauthn/metadata.js';
import { loadConfiguredMetadata } from './webauthn/metadata-source.js';
import { hashPassword } from './passwords/hash.js';
import { type Blocklist, loadBlocklist } from './passwords/policy.js';

/**
 * Everything a request handler, a CLI command or a background job needs, built
 * once at start-up and passed down as an argument (no module-level state).
 */
export interface Deps {
  config: Config;
  db: Kysely<Database>;
  dbKind: DatabaseHandle['kind'];
  clock: Clock;
  log: Logger;
  box: SecretBox;
  masterKey: MasterKey;
  signingKeys: SigningKeys;
  /** HMAC key of the audit hash chain. */
  auditChainKey: Buffer;
  /** HMAC key for stored hashes of low-entropy or offline-checkable values (client secrets). */
  tokenHashKey: Buffer;
  /** Local FIDO metadata for `direct` attestation policies; undefined when the operator installed none. */
  fidoMetadata: FidoMetadata | undefined;
  /** Common passwords refused when a password is set (src/passwords/blocklist.txt), loaded once. */
  passwordBlocklist: Blocklist;
  /** A hash at the configured cost, verified when no account matches so an unknown username costs the same time as a wrong password. */
  dummyPasswordHash: string;
}

export interface Runtime extends Deps {
  close(): Promise<void>;
}

export interface RuntimeOptions {
  clock?: Clock;
  log?: Logger;
  /** Apply pending migrations before anything else (start-up and CLI do; `readyz` checks). */
  migrate?: boolean;
  /** Override the database location (tests: `memory://`). */
  pgliteDir?: string;
  /** What a new embedded database starts from instead of initdb (tests: one migrated snapshot per run); see `ConnectOptions`. */
  pgliteSnapshot?: Blob;
}

export async function openRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? createLogger(config.logLevel);
  const masterKey = loadMasterKey(config, (file) =>
    log.warn({ file }, 'no WARTA_MASTER_KEY configured: generated a development master key file; set WARTA_MASTER_KEY or WARTA_MASTER_KEY_FILE in production'),
  );
  const handle = await connectDatabase({
    databaseUrl: config.databaseUrl,
    pgliteDir: options.pgliteDir ?? path.join(config.dataDir, 'pglite'),
    pgliteSnapshot: options.pgliteSnapshot,
    poolSize: config.dbPoolSize,
    attempts: config.dbConnectAttempts,
    onRetry: (attempt, delayMs, error) => log.warn({ attempt, delayMs, err: String(error) }, 'database not reachable yet, retrying'),
  });
  try {
    if (options.migrate !== false) {
      const applied = await migrateToLatest(handle.db);
      if (applied.length) log.info({ applied }, 'migrations applied');
    }
    const box = await openSecretBox(handle.db, masterKey, clock);
    const deps = { db: handle.db, box, clock };
    if (await ensureSigningKey(deps)) {
      await appendAudit(handle.db, clock, { actor: 'system' }, { action: 'signing_key.created' });
      log.info('created the first signing key');
    }
    const signingKeys = new SigningKeys(deps, {
      cacheSeconds: config.keyCacheSeconds,
      maxTokenLifetimeSeconds: Math.max(config.idTokenTtlSeconds, config.accessTokenTtlSeconds),
    });
    return {
      config,
      db: handle.db,
      dbKind: handle.kind,
      clock,
      log,
      box,
      masterKey,
      signingKeys,
      auditChainKey: await instanceSecret(handle.db, box, 'audit-chain', clock),
      tokenHashKey: await instanceSecret(handle.db, box, 'token-hash', clock),
      fidoMetadata: await loadConfiguredMetadata(config.fidoMetadata, clock.now(), log),
      passwordBlocklist: loadBlocklist(),
      dummyPasswordHash: await hashPassword(randomBytes(16).toString('base64url'), config.argon2),
      close: () => handle.close(),
    };
  } catch (error) {
    await handle.close();
    throw error;
  }
}
