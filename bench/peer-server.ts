/**
 * panva/oidc-provider (the certified Node OpenID provider) configured like Warta for
 * the benchmark: client_secret_basic, client_credentials → ES256 JWT access tokens
 * (via resource indicators, the provider's way to JWT access tokens), refresh tokens
 * rotated on every use, ES256 ID tokens, introspection. State in PostgreSQL through
 * bench/peer-adapter.ts, or the provider's in-memory store when asked.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import { createPeerAdapter } from './peer-adapter.js';
import { announceReady, BENCH_REDIRECT_URI, BENCH_RESOURCE, BENCH_SCOPE, type ServerOptions, type ServerReady } from './protocol.js';

const options = JSON.parse(process.argv[2] ?? '{}') as ServerOptions;
const CLIENT_ID = 'bench-client';
const CLIENT_SECRET = randomBytes(32).toString('base64url');
const ACCOUNT = 'bench-user';

let callback: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
const server = createServer((req, res) => (callback ? callback(req, res) : res.writeHead(503).end()));
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const { privateKey } = await generateKeyPair('ES256', { extractable: true });
const signingKey = { ...(await exportJWK(privateKey)), kid: 'bench-es256', alg: 'ES256', use: 'sig' };
const storage = options.peerAdapter === 'postgres' && options.databaseUrl ? await createPeerAdapter(options.databaseUrl, options.dbPoolSize) : undefined;

const provider = new Provider(url, {
  ...(storage ? { adapter: storage.Adapter } : {}),
  clients: [
    {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      response_types: ['code'],
      redirect_uris: [BENCH_REDIRECT_URI],
      scope: `openid offline_access ${BENCH_SCOPE}`,
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'ES256',
    },
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  scopes: ['openid', 'offline_access', BENCH_SCOPE],
  rotateRefreshToken: true,
  pkce: { required: () => true },
  findAccount: (_ctx: unknown, sub: string) => ({ accountId: sub, claims: () => ({ sub }) }),
  ttl: { AccessToken: 300, ClientCredentials: 300, IdToken: 3600, RefreshToken: 30 * 86400, Grant: 30 * 86400, Session: 86400, Interaction: 3600, AuthorizationCode: 60 },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => BENCH_RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({ scope: BENCH_SCOPE, audience: BENCH_RESOURCE, accessTokenTTL: 300, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } }),
    },
  },
});
callback = provider.callback();

// Refresh token families, as the authorization code grant would have left them.
const client = await provider.Client.find(CLIENT_ID);
const now = Math.floor(Date.now() / 1000);
const refreshTokens: string[] = [];
for (let i = 0; i < options.refreshChains; i++) {
  const grant = new provider.Grant({ accountId: ACCOUNT, clientId: CLIENT_ID });
  grant.addOIDCScope('openid offline_access');
  grant.addResourceScope(BENCH_RESOURCE, BENCH_SCOPE);
  const grantId = await grant.save();
  const refreshToken = new provider.RefreshToken({ accountId: ACCOUNT, client, grantId, scope: `openid offline_access ${BENCH_SCOPE}`, resource: BENCH_RESOURCE, gty: 'authorization_code', authTime: now, iiat: now });
  refreshTokens.push(await refreshToken.save());
}
// JWT access tokens are not stored, so the provider cannot introspect them; introspect a stored (opaque) one.
const introspectionToken = await new provider.ClientCredentials({ client, scope: BENCH_SCOPE }).save();

const ready: ServerReady = {
  type: 'ready',
  url,
  description: `oidc-provider ${(await import('oidc-provider/package.json', { with: { type: 'json' } })).default.version} (koa, ${storage ? `PostgreSQL adapter, pool ${options.dbPoolSize}` : 'in-memory adapter'})`,
  clientId: CLIENT_ID,
  clientSecret: CLIENT_SECRET,
  scope: BENCH_SCOPE,
  refreshTokens,
  introspectionToken,
};
announceReady(ready, async () => {
  server.closeAllConnections();
  server.close();
  await storage?.close();
});
