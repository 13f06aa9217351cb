import type { Context } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { AuditContext } from '../audit/audit.js';
import type { Role, Session, User } from '../db/schema.js';
import type { Deps } from '../deps.js';

export interface AppEnv {
  Variables: {
    deps: Deps;
    requestId: string;
    clientIp: string | null;
    session: Session | undefined;
    user: User | undefined;
    roles: Role[];
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
