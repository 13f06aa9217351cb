import type { AuditEntry } from '../db/schema.js';

/** Where sealed audit entries go (`WARTA_AUDIT_SINK`). */
export interface AuditSink {
  /** As the checkpoint row names it; no secrets in it. */
  readonly name: string;
  /** Resolves once the sink has taken `entries`, in the order given (written and fsynced; handed to the socket): only then does the checkpoint move. */
  write(entries: AuditEntry[]): Promise<void>;
  /** Connects, if the sink needs a connection, before the checkpoint row is locked: a collector slow to answer must not keep a database connection waiting. */
  connect?(): Promise<void>;
  close(): Promise<void>;
}
