import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { adoptEntriesWithoutMac, appendAudit } from './audit/audit.js';
import { ClientDirectory } from './clients/directory.js';
import { type Clock, systemClock } from './clock.js';
import type { Config } from './config.js';
import type { Deps } from './deps.js';
import type { SigningKeyProvider } from './crypto/key-provider.js';
import { loadMasterKey } from './crypto/master-key.js';
import { instanceSecret, openSecretBox } from './crypto/secret-box.js';
import { ensureSigningKey, SigningKeys } from './crypto/signing-keys.js';
import { EnvelopeKeyProvider } from './crypto/envelope-key-provider.js';
import { openPkcs11KeyProvider } from './crypto/pkcs11-key-provider.js';
import { connectDatabase } from './db/connect.js';
import type { DatabaseObserver } from './db/observe.js';
import { ErrorSummary } from './http/error-summary.js';
import { migrateToLatest } from './db/migrate.js';
import { installedPgliteSnapshot } from './db/pglite.js';
import { createLogger, type Logger } from './log.js';
import { collectFromDatabase } from './metrics/database.js';
import { Metrics } from './metrics/metrics.js';
import { Tokens } from './oidc/tokens.js';
import { loadConfiguredMetadata } from './webauthn/metadata-source.js';
import { hashPassword } from './passwords/hash.js';
import { HashGate, threadpoolShortfall } from './passwords/hash-gate.js';
import { loadBlocklist } from './passwords/policy.js';

export interface Runtime extends Deps {
  /** The embedded database as a gzipped data directory (`warta backup`); absent on PostgreSQL. */
  dumpEmbeddedDatabase?(): Promise<Uint8Array>;
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
  /** Sees every statement and transaction of the runtime's database (bench/db-cost.ts). */
  databaseObserver?: DatabaseObserver;
}

export async function openRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? createLogger(config.logLevel);
  const masterKey = loadMasterKey(config, (file) =>
    log.warn({ file }, 'no WARTA_MASTER_KEY configured: generated a development master key file; set WARTA_MASTER_KEY or WARTA_MASTER_KEY_FILE in production'),
  );
  const threadpool = threadpoolShortfall(config.passwords.hashing.concurrency);
  if (threadpool !== undefined)
    log.warn({ hashConcurrency: config.passwords.hashing.concurrency }, `WARTA_HASH_CONCURRENCY leaves fewer than two of libuv's threadpool threads free, so token signatures could wait behind password hashes: start Warta with UV_THREADPOOL_SIZE=${threadpool}`);
  const metrics = new Metrics();
  // Before the database: a token that is missing or refuses the PIN stops start-up before anything is migrated or written.
  const providerSettings = config.signingKeys.provider;
  const hsm = providerSettings.kind === 'pkcs11' ? await openPkcs11KeyProvider(providerSettings) : undefined;
  let signingKeyProvider: SigningKeyProvider | undefined = hsm;
  const handle = await connectDatabase({
    databaseUrl: config.database.url,
    pgliteDir: options.pgliteDir ?? path.join(config.database.dataDir, 'pglite'),
    pgliteSnapshot: options.pgliteSnapshot ?? (config.database.url === undefined ? await installedPgliteSnapshot() : undefined),
    poolSize: config.database.poolSize,
    attempts: config.database.connectAttempts,
    preparedStatements: config.database.preparedStatements,
    onRetry: (attempt, delayMs, error) => log.warn({ attempt, delayMs, err: String(error) }, 'database not reachable yet, retrying'),
    onQuery: (seconds, failed) => metrics.recordQuery(seconds, failed),
    ...(options.databaseObserver ? { observer: options.databaseObserver } : {}),
  }).catch((error: unknown) => {
    hsm?.close();
    throw error;
  });
  collectFromDatabase(metrics, { db: handle.db, clock, config, connectionUse: handle.connectionUse });
  try {
    if (options.migrate !== false) {
      const applied = await migrateToLatest(handle.db);
      if (applied.length) log.info({ applied }, 'migrations applied');
    }
    const box = await openSecretBox(handle.db, masterKey, clock);
    const auditEntryKey = await instanceSecret(handle.db, box, 'audit-entry', clock, {
      // The first start that has this key adopts what earlier versions appended and did not seal yet; from then on a row without a valid MAC is refused.
      onCreated: async (key) => {
        const adopted = await adoptEntriesWithoutMac(handle.db, key);
        if (adopted) log.info({ adopted }, 'gave a MAC to audit entries written before entries carried one');
      },
    });
    const audit = { clock, auditEntryKey };
    signingKeyProvider = hsm ?? new EnvelopeKeyProvider(box);
    const deps = { db: handle.db, box, clock, signingKeyProvider };
    if (await ensureSigningKey(deps)) {
      await appendAudit(handle.db, audit, { actor: 'system' }, { action: 'signing_key.created', details: { provider: signingKeyProvider.name } });
      log.info({ provider: signingKeyProvider.name }, 'created the first signing key');
    }
    const signingKeys = new SigningKeys(deps, {
      cacheSeconds: config.signingKeys.cacheSeconds,
      maxTokenLifetimeSeconds: Math.max(config.oidc.idTokenTtlSeconds, config.oidc.accessTokenTtlSeconds),
    });
    const errorSummary = new ErrorSummary(log, { clock });
    // Made beside the start-up rather than before it: an argon2 hash is a large share of a restart.
    const dummyHash = hashPassword(randomBytes(16).toString('base64url'), config.passwords.argon2);
    dummyHash.catch(() => {});
    return {
      config,
      db: handle.db,
      dbKind: handle.kind,
      clock,
      log,
      errorSummary,
      box,
      masterKey,
      signingKeyProvider,
      signingKeys,
      tokens: new Tokens({ config, clock, signingKeys }),
      clients: new ClientDirectory({ db: handle.db, clock, ttlSeconds: config.oidc.clientCacheSeconds }),
      auditChainKey: await instanceSecret(handle.db, box, 'audit-chain', clock),
      auditEntryKey,
      tokenHashKey: await instanceSecret(handle.db, box, 'token-hash', clock),
      dpopNonceKey: await instanceSecret(handle.db, box, 'dpop-nonce', clock),
      challengeSealKey: await instanceSecret(handle.db, box, 'challenge-seal', clock),
      pairwiseSubjectKey: await instanceSecret(handle.db, box, 'pairwise-subject', clock),
      fidoMetadata: await loadConfiguredMetadata(config.webauthn.fidoMetadata, clock.now(), log),
      passwordBlocklist: loadBlocklist(),
      passwordHashing: new HashGate(config.passwords.hashing),
      dummyPasswordHash: dummyHash,
      metrics,
      ...(handle.dumpEmbedded ? { dumpEmbeddedDatabase: handle.dumpEmbedded } : {}),
      close: () => {
        errorSummary.close();
        signingKeyProvider?.close();
        return handle.close();
      },
    };
  } catch (error) {
    signingKeyProvider?.close();
    await handle.close();
    throw error;
  }
}
