import type { Context } from 'hono';
import type { AuditContext } from '../audit/audit.js';
import type { Role, Session, User } from '../db/schema.js';
import type { WartaError } from '../errors.js';
import { isTrustedProxy, type ProxyTrust } from './proxy-trust.js';

/**
 * The signed-in account completed a recovery recently: until `until` it may not
 * use admin or officer rights. `refuse` audits the refused attempt and returns
 * the error to throw (set by sessions/middleware.ts, which holds the database).
 */
export interface PrivilegeHold {
  until: Date;
  refuse(): Promise<WartaError>;
}

/**
 * Who acts at /api/admin: a person with the admin role (a passkey session, or
 * their own DPoP-bound access token), or an operator-approved admin client of
 * one organisation with its granted area scopes. Both act for one organisation.
 */
export type AdminActor =
  | { kind: 'person'; user: User; organisationId: string; session: Session | undefined }
  | { kind: 'client'; clientId: string; organisationId: string; scopes: readonly string[] };

/** The audit log's name for the actor. */
export const adminActorName = (actor: AdminActor) => (actor.kind === 'person' ? `user:${actor.user.id}` : `client:${actor.clientId}`);

export interface AppEnv {
  Variables: {
    requestId: string;
    clientIp: string | null;
    session: Session | undefined;
    user: User | undefined;
    roles: Role[];
    privilegeHold: PrivilegeHold | undefined;
    /** Set by the /api/admin guard (authority/middleware.ts) once it has let the request through. */
    adminActor: AdminActor | undefined;
    /** The headers securityHeaders adds to every response (http/security-headers.ts). */
    securityHeaders: Readonly<Record<string, string>>;
    /** The response completeResponse built with every header already in it, which securityHeaders leaves as it is. */
    completeResponse: Response | undefined;
  };
}

export type AppContext = Context<AppEnv>;

/** The client's address: the socket peer, or the last X-Forwarded-For hop when the peer is a trusted proxy. */
export function clientIp(c: Context, trustProxy: ProxyTrust): string | null {
  const peer = peerAddress(c);
  if (isTrustedProxy(trustProxy, peer)) {
    const forwarded = c.req.header('x-forwarded-for');
    const last = forwarded?.split(',').map((s) => s.trim()).filter(Boolean).pop();
    if (last) return last;
  }
  return peer;
}

/** The address at the other end of the socket: the client itself, or the proxy in front of Warta. */
export function peerAddress(c: Context): string | null {
  // The socket @hono/node-server hands the app (what its getConnInfo reads, without building its result object on every
  // request); absent under app.request in tests.
  const socket = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket;
  return socket?.remoteAddress ?? null;
}

export function auditContext(c: AppContext): AuditContext {
  const user = c.get('user');
  const adminActor = c.get('adminActor');
  return {
    actor: adminActor ? adminActorName(adminActor) : user ? `user:${user.id}` : 'anonymous',
    ip: c.get('clientIp'),
    userAgent: c.req.header('user-agent') ?? null,
  };
}

/** The person or client acting at an /api/admin route; only those routes, behind their guard, may ask. */
export function adminActorOf(c: AppContext): AdminActor {
  const actor = c.get('adminActor');
  if (!actor) throw new Error('adminActorOf: the /api/admin guard did not run for this route');
  return actor;
}

/** What a sign-in needs to know about its request: who asks, from where, and the session the browser already had. */
export function signInRequest(c: AppContext): { context: AuditContext; previousSession: Session | undefined } {
  return { context: auditContext(c), previousSession: c.get('session') };
}
