import type { Kysely } from 'kysely';
import type { ClientDirectory } from './clients/directory.js';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { MasterKey } from './crypto/master-key.js';
import type { SecretBox } from './crypto/secret-box.js';
import type { SigningKeyProvider } from './crypto/key-provider.js';
import type { SigningKeys } from './crypto/signing-keys.js';
import type { DatabaseHandle } from './db/connect.js';
import type { Database } from './db/schema.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics/metrics.js';
import type { Tokens } from './oidc/tokens.js';
import type { ErrorSummary } from './http/error-summary.js';
import type { HashGate } from './passwords/hash-gate.js';
import type { Blocklist } from './passwords/policy.js';
import type { FidoMetadata } from './webauthn/metadata.js';

/**
 * Everything a request handler, a CLI command or a background job needs, built
 * once at start-up by `openRuntime` (src/runtime.ts) and passed down as an
 * argument (no module-level state). Types only: a module that takes Deps never
 * pulls in what builds them.
 */
export interface Deps {
  config: Config;
  db: Kysely<Database>;
  dbKind: DatabaseHandle['kind'];
  clock: Clock;
  log: Logger;
  /** Writes request failures to `log`, identical repeats counted into one line per interval; flushed when the runtime closes. */
  errorSummary: ErrorSummary;
  box: SecretBox;
  masterKey: MasterKey;
  /** Holds the signing keys' private halves (WARTA_SIGNING_KEY_PROVIDER): sealed in the database, or in an HSM token. */
  signingKeyProvider: SigningKeyProvider;
  signingKeys: SigningKeys;
  /** Issues and checks the JWTs Warta signs; one per instance, as it keeps key objects made from the signing keys. */
  tokens: Tokens;
  /** Registered clients as the back-channel endpoints see them, remembered per instance for `config.oidc.clientCacheSeconds`. */
  clients: ClientDirectory;
  /** HMAC key of the audit hash chain. */
  auditChainKey: Buffer;
  /** HMAC key of each audit entry's own MAC, made when it is appended (a row without one is never chained). */
  auditEntryKey: Buffer;
  /** HMAC key for stored hashes of low-entropy or offline-checkable values (client secrets). */
  tokenHashKey: Buffer;
  /** HMAC key of the stateless DPoP server nonces (src/oidc/dpop-nonce.ts), shared by every instance. */
  dpopNonceKey: Buffer;
  /** HMAC key of sealed sign-in challenges (src/webauthn/sealed-challenge.ts), shared by every instance: any instance finishes a sign-in another one started. */
  challengeSealKey: Buffer;
  /** HMAC key of pairwise subject identifiers (src/oidc/subject.ts): the same on every instance, or a person's `sub` would change. */
  pairwiseSubjectKey: Buffer;
  /** Local FIDO metadata for `direct` attestation policies; undefined when the operator installed none. */
  fidoMetadata: FidoMetadata | undefined;
  /** Common passwords refused when a password is set (src/passwords/blocklist.txt), loaded once. */
  passwordBlocklist: Blocklist;
  /** Bounds the argon2 hashes this instance computes at once (`config.passwords.hashing`); every password or recovery-code hash goes through it. */
  passwordHashing: HashGate;
  /** This instance's Prometheus registry and what code records into it (sign-ins, tokens, throttles, requests); served on the management port. */
  metrics: Metrics;
  /** A hash at the configured cost, verified when no account matches so an unknown username costs the same time as a wrong password. */
  dummyPasswordHash: Promise<string>;
}
