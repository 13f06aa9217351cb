/**
 * Warta as a benchmark target, in its own process (so the load generator does not
 * share its event loop): production settings, its default request log on stdout,
 * PostgreSQL when a database URL is
 * given, else in-memory PGlite; a seeded client, user, refresh token families and
 * an access token to introspect.
 */
import { randomBytes } from 'node:crypto';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createApp } from '../src/app.js';
import { OPERATOR, registerClient } from '../src/clients/service.js';
import { loadConfig } from '../src/config.js';
import { hashToken, newToken } from '../src/crypto/random.js';
import { createInvitation, redeemInvitation } from '../src/invitations/service.js';
import { createGrant } from '../src/grants/service.js';
import { createOrganisation } from '../src/orgs/service.js';
import { openRuntime } from '../src/runtime.js';
import { startSession } from '../src/sessions/service.js';
import { announceReady, BENCH_REDIRECT_URI, BENCH_SCOPE, type ServerOptions, type ServerReady } from './protocol.js';

const options = JSON.parse(process.argv[2] ?? '{}') as ServerOptions;
const REFRESH_HISTORY = 12;

let handler: ((request: Request, env: unknown) => Response | Promise<Response>) | undefined;
// The node bindings (`env`) are passed on as src/server.ts does: Warta reads the client's address from them.
const server = serve({ fetch: (request, env) => (handler ? handler(request, env) : new Response('starting', { status: 503 })), port: 0, hostname: '127.0.0.1' });
await new Promise<void>((resolve) => (server.listening ? resolve() : server.once('listening', () => resolve())));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const config = loadConfig({
  NODE_ENV: 'production',
  WARTA_ISSUER: url,
  WARTA_MASTER_KEY: randomBytes(32).toString('base64'),
  // Unset: the default a deployment runs with (info, one JSON line per request on stdout, which bench/run.ts sends to a file).
  ...(options.logLevel ? { WARTA_LOG_LEVEL: options.logLevel } : {}),
  // Every benchmark request comes from 127.0.0.1: lift the per-address limit on anonymous endpoints.
  WARTA_ANONYMOUS_REQUESTS_PER_MINUTE: '1000000',
  WARTA_DB_POOL_SIZE: String(options.dbPoolSize),
  ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
});
const runtime = await openRuntime(config, { pgliteDir: 'memory://' });
handler = createApp(runtime).fetch;

const organisation = await createOrganisation(runtime, { actor: 'bench' }, { name: `Bench ${randomBytes(3).toString('hex')}` });
const invitation = await createInvitation(runtime, { actor: 'bench' }, { organisationId: organisation.id, displayName: 'Bench User', email: `bench-${randomBytes(3).toString('hex')}@example.gov`, role: 'member' });
const { user } = await runtime.db.transaction().execute((trx) => redeemInvitation(trx, runtime, { actor: 'bench' }, invitation.token));
const client = await registerClient(runtime, { actor: 'bench' }, {
  client_name: 'Bench client',
  grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
  redirect_uris: [BENCH_REDIRECT_URI],
  scope: `openid offline_access ${BENCH_SCOPE}`,
  first_party: true,
}, { authority: OPERATOR });

// One grant per chain, as if each chain were a device that signed in with a passkey.
const { session } = await startSession(runtime.db, runtime, { userId: user.id, amr: ['hwk', 'user'], ip: null, userAgent: 'bench' });
const refreshTokens: string[] = [];
for (let i = 0; i < options.refreshChains; i++) {
  const grant = await createGrant(runtime.db, runtime.clock, { clientId: client.client_id, session, scope: `openid offline_access ${BENCH_SCOPE}`, dpopJkt: null, lifetimeSeconds: config.oidc.refreshTokenTtlSeconds });
  const token = newToken();
  const now = runtime.clock.now();
  // Each family with an hour of history (12 spent tokens at the messenger's 5-minute cadence), as a deployment's are,
  // so the statistics bench/run.ts gathers see several tokens per grant, not one (see the ANALYZE there).
  const spent = Array.from({ length: REFRESH_HISTORY }, () => ({ token_hash: hashToken(newToken()), grant_id: grant.id, created_at: now, expires_at: grant.expires_at, used_at: now }));
  await runtime.db.insertInto('oauth_refresh_tokens').values([...spent, { token_hash: hashToken(token), grant_id: grant.id, created_at: now, expires_at: grant.expires_at, used_at: null }]).execute();
  refreshTokens.push(token);
}

const basic = `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`;
const issued = await fetch(`${url}/token`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=client_credentials&scope=${BENCH_SCOPE}` });
const { access_token: introspectionToken } = (await issued.json()) as { access_token: string };

const ready: ServerReady = {
  type: 'ready',
  url,
  description: `Warta (hono + @hono/node-server, ${runtime.dbKind === 'pg' ? `PostgreSQL, pool ${options.dbPoolSize}` : 'embedded PGlite'}, log level ${config.logLevel})`,
  clientId: client.client_id,
  clientSecret: client.client_secret!,
  scope: BENCH_SCOPE,
  refreshTokens,
  introspectionToken,
};
// bench/profile.ts: a CPU profile of the load alone, start-up excluded.
const inspector = new Session();
process.on('message', async (message: unknown) => {
  if (message === 'profile-start') {
    inspector.connect();
    await inspector.post('Profiler.enable');
    await inspector.post('Profiler.start');
    process.send!('profile-started');
  } else if (message === 'profile-stop') {
    const { profile } = await inspector.post('Profiler.stop');
    process.send!({ type: 'profile', profile });
  }
});
announceReady(ready, async () => {
  (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
  server.close();
  await runtime.close();
});
