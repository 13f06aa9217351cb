/**
 * Warta scaled out as docker/compose.yml runs it, with Debian's nginx: two Warta
 * processes on one PostgreSQL database behind an nginx round robin, and every step
 * of a passkey sign-in and an OpenID Connect code flow landing on the other
 * instance than the step before. On the embedded database (which belongs to one
 * process) one instance stands behind nginx. Either way nginx's access log shows
 * which instance served what, and the client address Warta records is the one
 * nginx saw, not nginx's own.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as oidc from 'openid-client';
import { afterAll, describe, expect, it } from 'vitest';
import { generateMasterKeyBase64 } from '../../src/crypto/master-key.js';
import { connectDatabase } from '../../src/db/connect.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';
import { NGINX_SOURCE_ADDRESS, nginxFolder, startNginx } from '../support/nginx.js';
import { freePort } from '../support/syslog-collector.js';
import { startWartaProcess as startWarta } from '../support/warta-process.js';
import { cleanUpLater, createScratchDatabase, usingPostgres } from '../support/runtime.js';

const root = path.resolve(import.meta.dirname, '../..');
/** What the test client claims to be; nginx appends the address it really saw (127.0.0.1). */
const FORGED_CLIENT_ADDRESS = '203.0.113.9';
const REDIRECT_URI = 'http://127.0.0.1:8765/callback';

const children: ChildProcess[] = [];
afterAll(() => children.forEach((child) => child.kill('SIGKILL')));



/** `warta …` as the operator runs it, as JSON. */
function warta(args: string[], env: Record<string, string>): Promise<any> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args, '--json'], { cwd: root, env: { ...process.env, NODE_ENV: 'development', WARTA_LOG_LEVEL: 'warn', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(stdout.trim().split('\n').pop()!)) : reject(new Error(`warta ${args.join(' ')} exited with ${code}: ${stderr}${stdout}`))));
  });
}

/** nginx configured as docker/nginx.conf but on loopback ports; its access log names the upstream of every request. */
async function startBalancer(dir: string, port: number, upstreams: number[]): Promise<{ accessLog: string }> {
  const accessLog = path.join(dir, 'access.log');
  await startNginx(
    dir,
    port,
    `  log_format upstreams '$request_method $request_uri $status $upstream_addr';
  access_log ${accessLog} upstreams;
  upstream warta {
${upstreams.map((p) => `    server 127.0.0.1:${p};`).join('\n')}
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://warta;
      proxy_bind ${NGINX_SOURCE_ADDRESS};
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_next_upstream off;
    }
  }`,
  );
  return { accessLog };
}

interface Served {
  method: string;
  path: string;
  status: number;
  upstream: string;
}

function servedRequests(accessLog: string): Served[] {
  return readFileSync(accessLog, 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [method, uri, status, upstream] = line.split(' ');
      return { method: method!, path: uri!.split('?')[0]!, status: Number(status), upstream: upstream! };
    });
}

describe(usingPostgres ? 'two Warta instances on one PostgreSQL database behind nginx' : 'Warta on the embedded database behind nginx', { timeout: 180_000 }, () => {
  it('signs a person in with a passkey and through an OIDC code flow with refresh, steps alternating between instances; the audit chain verifies', async () => {
    const dir = nginxFolder('this test runs Warta behind a real nginx');
    const masterKeyFile = path.join(dir, 'master.key');
    writeFileSync(masterKeyFile, generateMasterKeyBase64(), { mode: 0o600 });
    const nginxPort = await freePort();
    const issuer = `http://127.0.0.1:${nginxPort}`;
    const dataDir = path.join(dir, 'data');
    mkdirSync(dataDir);
    const env: Record<string, string> = {
      WARTA_ISSUER: issuer,
      WARTA_DATA_DIR: dataDir,
      WARTA_MASTER_KEY_FILE: masterKeyFile,
      WARTA_TRUST_PROXY: 'true',
      // Every request of this test comes from one address.
      WARTA_ANONYMOUS_REQUESTS_PER_MINUTE: '1000000',
    };
    if (usingPostgres) {
      const scratch = await createScratchDatabase();
      cleanUpLater(scratch.drop);
      env.DATABASE_URL = scratch.url;
    }

    // Both instances start together on an empty database, as a Deployment's pods do: one migrates, the other waits for it.
    const instances = await Promise.all((usingPostgres ? [1, 2] : [1]).map(() => startWarta(env)));
    const upstreams = instances.map((instance) => `127.0.0.1:${instance.port}`);
    const { accessLog } = await startBalancer(dir, nginxPort, instances.map((instance) => instance.port));

    const bootstrap = await warta(['bootstrap', '--org', 'Ministry of Scale', '--admin', 'Anna Nowak', '--email', 'anna.nowak@example.gov'], env);
    const invitation = new URL(bootstrap.link).hash.replace('#invitation=', '');
    const client = await warta(['client', 'create', '--name', 'Portal', '--redirect-uri', REDIRECT_URI, '--grant-types', 'authorization_code,refresh_token', '--first-party'], env);

    const post = async (pathname: string, body: unknown, headers: Record<string, string> = {}) => {
      const response = await fetch(`${issuer}${pathname}`, { method: 'POST', headers: { 'content-type': 'application/json', origin: issuer, ...headers }, body: JSON.stringify(body) });
      expect(response.ok, `${pathname}: ${response.status} ${await response.clone().text()}`).toBe(true);
      return response;
    };

    // Enrolment: the passkey is created against the options one instance issued and registered at the other.
    const authenticator = new SoftAuthenticator();
    const creation = await (await post('/api/webauthn/enrollment/options', { invitation })).json();
    await post('/api/webauthn/enrollment/verify', { invitation, credential: authenticator.createCredential(creation, { origin: issuer }) });

    // The relying party starts a code flow with PKCE; the browser has no session yet.
    const config = await oidc.discovery(new URL(issuer), client.client_id, undefined, oidc.ClientSecretBasic(client.client_secret), { execute: [oidc.allowInsecureRequests] });
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const authorizationUrl = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid profile email offline_access', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, nonce });
    const toSignIn = await fetch(authorizationUrl, { redirect: 'manual' });
    expect(toSignIn.status).toBe(303);
    const resumePath = new URL(toSignIn.headers.get('location')!, issuer).searchParams.get('return_to')!;
    expect(resumePath).toMatch(/^\/authorize\/resume\?request=/);

    // Passkey sign-in, claiming another address in X-Forwarded-For: nginx appends the one it saw, and Warta takes that.
    const request = await (await post('/api/webauthn/authentication/options', {})).json();
    const signedIn = await post('/api/webauthn/authentication/verify', { credential: authenticator.getAssertion(request, { origin: issuer }) }, { 'x-forwarded-for': FORGED_CLIENT_ADDRESS });
    const cookie = signedIn.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    expect(cookie).toMatch(/warta_session=/);

    const back = await fetch(`${issuer}${resumePath}`, { redirect: 'manual', headers: { cookie } });
    expect(back.status).toBe(303);
    const callback = new URL(back.headers.get('location')!);
    expect(callback.searchParams.get('iss')).toBe(issuer);

    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    const subject = tokens.claims()!.sub;
    expect(tokens.claims()).toMatchObject({ iss: issuer, aud: client.client_id, nonce, amr: ['hwk', 'user'] });
    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, subject);
    expect(userinfo).toMatchObject({ sub: subject, email: 'anna.nowak@example.gov', name: 'Anna Nowak' });
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(refreshed.claims()?.sub).toBe(subject);
    // The replaced refresh token is dead everywhere, whichever instance is asked.
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });

    const served = servedRequests(accessLog).filter((r) => r.path !== '/healthz');
    expect(served.every((r) => upstreams.includes(r.upstream)), JSON.stringify(served)).toBe(true);
    const step = (method: string, pathname: string) => {
      const found = served.find((r) => r.method === method && r.path === pathname);
      if (!found) throw new Error(`${method} ${pathname} is not in nginx's access log: ${JSON.stringify(served)}`);
      return found.upstream;
    };
    if (usingPostgres) {
      expect(new Set(served.map((r) => r.upstream))).toEqual(new Set(upstreams));
      // Round robin: each request went to the other instance than the one before it.
      for (let i = 1; i < served.length; i++) expect(served[i]!.upstream, JSON.stringify(served.slice(i - 1, i + 1))).not.toBe(served[i - 1]!.upstream);
      expect(step('POST', '/api/webauthn/enrollment/verify')).not.toBe(step('POST', '/api/webauthn/enrollment/options'));
      expect(step('POST', '/api/webauthn/authentication/verify')).not.toBe(step('POST', '/api/webauthn/authentication/options'));
      expect(step('GET', '/authorize/resume')).not.toBe(step('GET', '/authorize'));
      expect(step('GET', '/userinfo')).not.toBe(served.find((r) => r.path === '/token')!.upstream);
    } else {
      expect(new Set(served.map((r) => r.upstream))).toEqual(new Set(upstreams));
    }

    await Promise.all(instances.map(async (instance) => {
      instance.child.kill('SIGTERM');
      expect(await instance.exited).toBe(0);
    }));

    expect(await warta(['audit', 'verify', '--seal'], env)).toMatchObject({ ok: true, unsealed: 0 });

    // The session and its audit entry carry the address nginx saw: not nginx's own, not the one the client made up.
    const database = await connectDatabase({ databaseUrl: env.DATABASE_URL, pgliteDir: path.join(dataDir, 'pglite'), poolSize: 1, attempts: 1 });
    try {
      const sessions = await database.db.selectFrom('sessions').select(['ip']).where('user_id', '=', subject).execute();
      expect(sessions.length).toBeGreaterThanOrEqual(1);
      expect(sessions.map((s) => s.ip)).toContain('127.0.0.1');
      expect(sessions.map((s) => s.ip)).not.toContain(NGINX_SOURCE_ADDRESS);
      expect(sessions.map((s) => s.ip)).not.toContain(FORGED_CLIENT_ADDRESS);
      const addresses = await database.db.selectFrom('audit_log').select('ip').distinct().where('ip', 'is not', null).execute();
      expect(addresses.map((a) => a.ip)).toEqual(['127.0.0.1']);
    } finally {
      await database.close();
    }
  });
});
