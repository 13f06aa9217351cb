/**
 * A real Warta over HTTP for OIDC tests: @hono/node-server on an ephemeral port, the
 * issuer set to that port (so discovery's issuer matches what openid-client asked for),
 * and helpers to register clients and walk the authorization endpoint with a session.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { decodeJwt, type JWTPayload } from 'jose';
import * as oidc from 'openid-client';

import { createApp } from '../../src/app.js';
import type { ClientMetadataInput } from '../../src/clients/metadata.js';
import { type ClientView, OPERATOR, registerClient, type RegistrationOptions } from '../../src/clients/service.js';
import type { User } from '../../src/db/schema.js';
import { createTestRuntime, createTestUser, sessionCookie, type TestRuntime, cleanUpLater } from '../support/runtime.js';

export interface OidcTestServer {
  runtime: TestRuntime;
  issuer: string;
  url(path: string): string;
}

export async function startOidcServer(env: Record<string, string> = {}): Promise<OidcTestServer> {
  let handler: ((request: Request) => Response | Promise<Response>) | undefined;
  const server = serve({ fetch: (request) => (handler ? handler(request) : new Response('starting', { status: 503 })), port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => (server.listening ? resolve() : server.once('listening', () => resolve())));
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;
  const runtime = await createTestRuntime({ env: { WARTA_ISSUER: issuer, ...env } });
  handler = createApp(runtime).fetch;
  cleanUpLater(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { runtime, issuer, url: (path) => `${issuer}${path}` };
}

/**
 * startOidcServer, but the app is handed each request's socket (node-server's env), so
 * it knows the peer's address: what the trusted-proxy decision reads. `issuer` replaces
 * the server's own URL, e.g. with the URL of a proxy in front of it.
 */
export async function startOidcServerWithPeers(env: Record<string, string> = {}, options: { issuer?: string } = {}): Promise<OidcTestServer & { port: number }> {
  let app: ReturnType<typeof createApp> | undefined;
  const server = serve({ fetch: (request, bindings) => (app ? app.fetch(request, bindings) : new Response('starting', { status: 503 })), port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => (server.listening ? resolve() : server.once('listening', () => resolve())));
  const { port } = server.address() as AddressInfo;
  const issuer = options.issuer ?? `http://127.0.0.1:${port}`;
  const runtime = await createTestRuntime({ env: { WARTA_ISSUER: issuer, ...env } });
  app = createApp(runtime);
  cleanUpLater(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { runtime, issuer, port, url: (path) => `${issuer}${path}` };
}

export const REDIRECT_URI = 'http://127.0.0.1:8765/callback';
export const POST_LOGOUT_URI = 'http://127.0.0.1:8765/signed-out';

/** A confidential, first-party web client (client_secret_basic) for the code flow with refresh tokens; registered by the operator (any organisation signs in) unless `options` say otherwise. */
export function registerWebClient(runtime: TestRuntime, overrides: ClientMetadataInput = {}, options: RegistrationOptions = { authority: OPERATOR }): Promise<ClientView> {
  return registerClient(runtime, { actor: 'test' }, {
    client_name: 'Test Portal',
    grant_types: ['authorization_code', 'refresh_token'],
    redirect_uris: [REDIRECT_URI],
    post_logout_redirect_uris: [POST_LOGOUT_URI],
    first_party: true,
    ...overrides,
  }, options);
}

/** openid-client's view of Warta for `client` (discovery over HTTP; http allowed on loopback). */
export async function discover(server: OidcTestServer, client: ClientView, auth?: oidc.ClientAuth): Promise<oidc.Configuration> {
  const clientAuth = auth ?? (client.client_secret ? oidc.ClientSecretBasic(client.client_secret) : oidc.None());
  return oidc.discovery(new URL(server.issuer), client.client_id, undefined, clientAuth, { execute: [oidc.allowInsecureRequests] });
}

export interface PkceRequest {
  verifier: string;
  state: string;
  nonce: string;
  params: Record<string, string>;
}

/** Fresh PKCE, state and nonce, and the authorization parameters that carry them. */
export async function pkceRequest(client: Pick<ClientView, 'client_id'>, extra: Record<string, string> = {}): Promise<PkceRequest> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  return {
    verifier,
    state,
    nonce,
    params: {
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: REDIRECT_URI,
      scope: 'openid profile email offline_access',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...extra,
    },
  };
}

/** GETs a Warta URL as a browser with `cookie` would, without following redirects. */
export function browserGet(url: string | URL, cookie?: string): Promise<Response> {
  return fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
}

/** The Location of a redirect response (asserting it is one). */
export function locationOf(response: Response): URL {
  const location = response.headers.get('location');
  if (response.status !== 303 || location === null) throw new Error(`expected a 303 redirect, got ${response.status}`);
  return new URL(location, 'http://warta.invalid');
}

/** A user signed in with `amr` (passkey by default), and their cookie. */
export async function signedInUser(runtime: TestRuntime, amr: string[] = ['hwk', 'user'], options: Parameters<typeof createTestUser>[1] = {}): Promise<{ user: User; cookie: string }> {
  const user = await createTestUser(runtime, options);
  return { user, cookie: await sessionCookie(runtime, user, amr) };
}

/** Walks /authorize with a signed-in browser and returns the callback URL (code, state, iss). */
export async function authorizeWithSession(server: OidcTestServer, params: Record<string, string>, cookie: string): Promise<URL> {
  const response = await browserGet(`${server.url('/authorize')}?${new URLSearchParams(params)}`, cookie);
  const callback = locationOf(response);
  if (callback.searchParams.has('error')) throw new Error(`authorization failed: ${callback.searchParams.get('error')}: ${callback.searchParams.get('error_description')}`);
  return callback;
}

/**
 * Redeems the code at `callback` as `client` would (PKCE verifier, its own
 * authentication) and returns the claims of the ID Token it gets: what the relying
 * party learns from the authorization.
 */
export async function idTokenClaims(server: OidcTestServer, callback: URL, request: PkceRequest, client: Pick<ClientView, 'client_id' | 'client_secret'>): Promise<JWTPayload> {
  const code = callback.searchParams.get('code');
  if (code === null) throw new Error(`no code at the redirect URI: ${callback}`);
  const form = { grant_type: 'authorization_code', code, redirect_uri: request.params.redirect_uri!, code_verifier: request.verifier };
  const reply = client.client_secret ? await postForm(server.url('/token'), form, basicAuth(client)) : await postForm(server.url('/token'), { ...form, client_id: client.client_id });
  if (reply.status !== 200) throw new Error(`the code was not redeemed: ${reply.status} ${JSON.stringify(reply.body)}`);
  return decodeJwt(reply.body.id_token as string);
}

/** POSTs a form to the token endpoint (or another back-channel endpoint) and returns status and JSON body. */
export async function postForm(url: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form) });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: response.headers };
}

export const basicAuth = (client: Pick<ClientView, 'client_id' | 'client_secret'>) => ({
  authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret ?? '')}`).toString('base64')}`,
});
