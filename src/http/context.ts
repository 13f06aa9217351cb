import type { Context } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { AuditContext } from '../audit/audit.js';
import type { Role, Session, User } from '../db/schema.js';
import type { WartaError } from '../errors.js';

/**
 * The signed-in account completed a recovery recently: until `until` it may not
 * use admin or officer rights. `refuse` audits the refused attempt and returns
 * the error to throw (set by sessions/middleware.ts, which holds the database).
 */
export interface PrivilegeHold {
  until: Date;
  refuse(): Promise<WartaError>;
}

export interface AppEnv {
  Variables: {
    requestId: string;
    clientIp: string | null;
    session: Session | undefined;
    user: User | undefined;
    roles: Role[];
    privilegeHold: PrivilegeHold | undefined;
  };
}

export type AppContext = Context<AppEnv>;

/** The client's address: the socket peer, or the last X-Forwarded-For hop when a trusted proxy sits in front. */
export function clientIp(c: Context, trustProxy: boolean): string | null {
  if (trustProxy) {
    const forwarded = c.req.header('x-forwarded-for');
    const last = forwarded?.split(',').map((s) => s.trim()).filter(Boolean).pop();
    if (last) return last;
  }
  try {
    return getConnInfo(c).remote.address ?? null;
  } catch {
    return null; // not served by @hono/node-server (app.request in tests)
  }
}

export function auditContext(c: AppContext): AuditContext {
  const user = c.get('user');
  return {
    actor: user ? `user:${user.id}` : 'anonymous',
    ip: c.get('clientIp'),
    userAgent: c.req.header('user-agent') ?? null,
  };
}

/** What a sign-in needs to know about its request: who asks, from where, and the session the browser already had. */
export function signInRequest(c: AppContext): { context: AuditContext; previousSession: Session | undefined } {
  return { context: auditContext(c), previousSession: c.get('session') };
}
