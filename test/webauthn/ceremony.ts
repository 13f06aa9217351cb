/**
 * Helpers for the passkey tests: a JSON client over the in-process app that
 * keeps a cookie and a client address, and the two ceremonies driven by a
 * SoftAuthenticator (real keys, real CBOR, real signatures).
 */
import { randomBytes } from 'node:crypto';
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { expect } from 'vitest';
import type { Role } from '../../src/db/schema.js';
import { createInvitation } from '../../src/invitations/service.js';
import type { OrganisationPolicy } from '../../src/orgs/policy.js';
import { createOrganisation } from '../../src/orgs/service.js';
import type { Runtime } from '../../src/runtime.js';
import { sessionCookieName } from '../../src/http/session-cookie.js';
import { type AssertionOverrides, type RegistrationOverrides, SoftAuthenticator, type SoftAuthenticatorOptions } from '../support/soft-authenticator.js';
import { testClient } from '../support/runtime.js';

export type Json = Record<string, any>;

export interface Reply {
  status: number;
  body: Json;
  headers: Headers;
}

let ipCounter = 0;

/** A cookie-keeping JSON client. Each gets its own address (the runtime trusts X-Forwarded-For), so rate limits do not leak between tests. */
export function browser(runtime: Runtime, options: { baseUrl?: string; ip?: string } = {}) {
  // In-process by default; over real HTTP when given a server's base URL.
  const app = options.baseUrl ? undefined : testClient(runtime).app;
  const send = (path: string, init: RequestInit) => (app ? app.request(path, init) : fetch(`${options.baseUrl}${path}`, init));
  ipCounter += 1;
  const ip = options.ip ?? `10.${(ipCounter >> 16) & 255}.${(ipCounter >> 8) & 255}.${ipCounter & 255}`;
  const cookieName = sessionCookieName(runtime.config.secureCookies);
  const state = { cookie: undefined as string | undefined };

  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
    const h = new Headers({ 'x-forwarded-for': ip, ...headers });
    if (body !== undefined && !h.has('content-type')) h.set('content-type', 'application/json');
    if (state.cookie) h.set('cookie', `${cookieName}=${state.cookie}`);
    const response = await send(path, { method, headers: h, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
    const setCookie = response.headers.get('set-cookie') ?? '';
    const match = new RegExp(`${cookieName}=([^;]*)`).exec(setCookie);
    if (match) state.cookie = match[1] || undefined;
    const text = await response.text();
    let parsed: Json = {};
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = { text };
    }
    return { status: response.status, body: parsed, headers: response.headers };
  }

  return {
    ip,
    state,
    call,
    post: (path: string, body: unknown = {}, headers?: Record<string, string>) => call('POST', path, body, headers),
    get: (path: string, headers?: Record<string, string>) => call('GET', path, undefined, headers),
  };
}

export type Browser = ReturnType<typeof browser>;

export const origin = (runtime: Runtime) => runtime.config.origin;

let orgCounter = 0;

export async function inviteTo(runtime: Runtime, options: { policy?: Partial<OrganisationPolicy>; role?: Role; organisationId?: string } = {}) {
  orgCounter += 1;
  const organisationId =
    options.organisationId ?? (await createOrganisation(runtime, { actor: 'test' }, { name: `Passkey Org ${orgCounter} ${randomBytes(3).toString('hex')}`, ...(options.policy ? { policy: options.policy } : {}) })).id;
  const issued = await createInvitation(runtime, { actor: 'test' }, { organisationId, displayName: 'Anna Nowak', email: `anna.${randomBytes(4).toString('hex')}@example.gov`, role: options.role ?? 'member' });
  return { ...issued, organisationId };
}

export async function enrollmentOptions(client: Browser, token: string): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const reply = await client.post('/api/webauthn/enrollment/options', { invitation: token });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body as PublicKeyCredentialCreationOptionsJSON;
}

/** Invitation → options → authenticator → verify; returns the signed-in browser and its authenticator. */
export async function enroll(
  runtime: Runtime,
  options: { authenticator?: SoftAuthenticatorOptions; policy?: Partial<OrganisationPolicy>; role?: Role; name?: string; client?: Browser; overrides?: RegistrationOverrides } = {},
) {
  const invitation = await inviteTo(runtime, options);
  const client = options.client ?? browser(runtime);
  const authenticator = new SoftAuthenticator(options.authenticator ?? {});
  const creation = await enrollmentOptions(client, invitation.token);
  const credential = authenticator.createCredential(creation, { origin: origin(runtime), ...(options.overrides ? { overrides: options.overrides } : {}) });
  const reply = await client.post('/api/webauthn/enrollment/verify', { invitation: invitation.token, credential, ...(options.name ? { name: options.name } : {}) });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return { client, authenticator, invitation, creation, credential, user: reply.body.user as { id: string; username: string }, reply };
}

export async function authenticationOptions(client: Browser, username?: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const reply = await client.post('/api/webauthn/authentication/options', username ? { username } : {});
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body as PublicKeyCredentialRequestOptionsJSON;
}

/** A full usernameless (or username-first) sign-in; returns the verify reply. */
export async function signIn(runtime: Runtime, client: Browser, authenticator: SoftAuthenticator, options: { username?: string; overrides?: AssertionOverrides; credentialId?: string } = {}): Promise<Reply> {
  const request = await authenticationOptions(client, options.username);
  const credential = authenticator.getAssertion(request, { origin: origin(runtime), ...(options.overrides ? { overrides: options.overrides } : {}), ...(options.credentialId ? { credentialId: options.credentialId } : {}) });
  return client.post('/api/webauthn/authentication/verify', { credential });
}

/** The re-authentication ceremony on a signed-in browser. */
export async function reauthenticationOptions(client: Browser): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const reply = await client.post('/api/webauthn/reauthentication/options', {});
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body as PublicKeyCredentialRequestOptionsJSON;
}

export async function reauthenticate(runtime: Runtime, client: Browser, authenticator: SoftAuthenticator, overrides?: AssertionOverrides): Promise<Reply> {
  const options = await reauthenticationOptions(client);
  const credential = authenticator.getAssertion(options, { origin: origin(runtime), ...(overrides ? { overrides } : {}) });
  return client.post('/api/webauthn/reauthentication/verify', { credential });
}

export async function auditActions(runtime: Runtime, subject: string): Promise<string[]> {
  const rows = await runtime.db.selectFrom('audit_log').select('action').where('subject', '=', subject).orderBy('id').execute();
  return rows.map((row) => row.action);
}

export async function lastAudit(runtime: Runtime, action: string) {
  return runtime.db.selectFrom('audit_log').selectAll().where('action', '=', action).orderBy('id', 'desc').limit(1).executeTakeFirst();
}

export const TEST_ENV = { WARTA_TRUST_PROXY: 'true' };
