/** What a benchmark server (a child process) reports to bench/run.ts once it is listening and seeded. */
export interface ServerReady {
  type: 'ready';
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  /** Human-readable description of the set-up (database, adapter). */
  description: string;
  clientId: string;
  clientSecret: string;
  /** Scope for client_credentials requests. */
  scope: string;
  /** One refresh token per chain; each chain rotates its own family. */
  refreshTokens: string[];
  /** An active access token to introspect. */
  introspectionToken: string;
}

export interface ServerOptions {
  /** A PostgreSQL database for the server's state; the embedded or in-memory store without it. */
  databaseUrl: string | undefined;
  /** How many refresh token families to seed. */
  refreshChains: number;
  /** Peer only: 'postgres' (a table in databaseUrl, like Warta's state) or 'memory' (oidc-provider's default, development-only store). */
  peerAdapter: 'postgres' | 'memory';
  dbPoolSize: number;
  /** Warta only: WARTA_LOG_LEVEL; unset, Warta's default (info: one line per request). */
  logLevel?: string;
}

/** Tells bench/run.ts the server is ready, and stops it (closing what `close` closes) when asked. */
export function announceReady(ready: ServerReady, close: () => Promise<void>): void {
  process.send!(ready);
  process.on('message', async (message) => {
    if (message !== 'stop') return;
    await close();
    process.exit(0);
  });
}

export const BENCH_SCOPE = 'api:read';
export const BENCH_RESOURCE = 'urn:bench:api';
export const BENCH_REDIRECT_URI = 'https://rp.bench.invalid/callback';
