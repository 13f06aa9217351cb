import type { Kysely } from 'kysely';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { MasterKey } from './crypto/master-key.js';
import type { SecretBox } from './crypto/secret-box.js';
import type { SigningKeys } from './crypto/signing-keys.js';
import type { DatabaseHandle } from './db/connect.js';
import type { Database } from './db/schema.js';
import type { Logger } from './log.js';
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
