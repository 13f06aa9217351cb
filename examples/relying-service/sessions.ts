/**
 * The service's own sessions, kept in memory: one process, one store. A service
 * running several instances keeps the same records in its database or cache,
 * and the back-channel logout and SET handlers must reach that shared store.
 */
import { randomBytes } from 'node:crypto';

export interface LocalSession {
  id: string;
  /** Warta's user id: what SETs and logout tokens name. */
  sub: string;
  /** Warta's session id (the ID token's `sid`): what back-channel logouts name. */
  sid: string | undefined;
  acr: string;
  name: string;
  /** For the end-session request (`id_token_hint`). */
  idToken: string;
  expiresAt: number;
}

/** A sign-in in flight: what the callback must match (OIDC Core §3.1.2.7, RFC 7636). */
export interface PendingSignIn {
  id: string;
  codeVerifier: string;
  state: string;
  nonce: string;
  /** The acr_values asked for, if any: the callback checks the ID token against it. */
  requiredAcr: string | undefined;
  returnTo: string;
  expiresAt: number;
}

const SESSION_SECONDS = 8 * 3600;
const SIGN_IN_SECONDS = 10 * 60;

export class SessionStore {
  private readonly sessions = new Map<string, LocalSession>();
  private readonly pending = new Map<string, PendingSignIn>();
  /** Notices for a user, shown (once) on their next page, whichever session they use. */
  private readonly notices = new Map<string, string[]>();

  constructor(private readonly now: () => number = Date.now) {}

  startSignIn(input: Omit<PendingSignIn, 'id' | 'expiresAt'>): PendingSignIn {
    // Sign-ins abandoned at Warta are never taken: drop the expired ones as new ones come.
    for (const [id, stale] of this.pending) if (stale.expiresAt <= this.now()) this.pending.delete(id);
    const signIn = { ...input, id: newId(), expiresAt: this.now() + SIGN_IN_SECONDS * 1000 };
    this.pending.set(signIn.id, signIn);
    return signIn;
  }

  /** The sign-in is single-use: taken out whether or not it then succeeds. */
  takeSignIn(id: string | undefined): PendingSignIn | undefined {
    if (id === undefined) return undefined;
    const signIn = this.pending.get(id);
    this.pending.delete(id);
    return signIn && signIn.expiresAt > this.now() ? signIn : undefined;
  }

  /** A fresh id at every sign-in (a step-up too), so an id planted before it is worth nothing after. */
  create(input: Omit<LocalSession, 'id' | 'expiresAt'>): LocalSession {
    this.endWhere((stale) => stale.expiresAt <= this.now());
    const session = { ...input, id: newId(), expiresAt: this.now() + SESSION_SECONDS * 1000 };
    this.sessions.set(session.id, session);
    return session;
  }

  get(id: string | undefined): LocalSession | undefined {
    if (id === undefined) return undefined;
    const session = this.sessions.get(id);
    if (session && session.expiresAt <= this.now()) this.sessions.delete(id);
    return session && session.expiresAt > this.now() ? session : undefined;
  }

  end(id: string): void {
    this.sessions.delete(id);
  }

  /** Ends the sessions that came from Warta session `sid` (of `sub`, when given); returns how many. */
  endByWartaSession(sid: string, sub?: string): number {
    return this.endWhere((s) => s.sid === sid && (sub === undefined || s.sub === sub));
  }

  endAllOf(sub: string): number {
    return this.endWhere((s) => s.sub === sub);
  }

  addNotice(sub: string, text: string): void {
    this.notices.set(sub, [...(this.notices.get(sub) ?? []), text].slice(-20));
  }

  takeNotices(sub: string): string[] {
    const notices = this.notices.get(sub) ?? [];
    this.notices.delete(sub);
    return notices;
  }

  private endWhere(matches: (session: LocalSession) => boolean): number {
    let ended = 0;
    for (const [id, session] of this.sessions) {
      if (!matches(session)) continue;
      this.sessions.delete(id);
      ended += 1;
    }
    return ended;
  }
}

/**
 * Token ids already acted on (logout tokens, SETs), kept as long as a replay
 * could still be accepted; a replay is answered as a success and changes nothing.
 */
export class SeenTokenIds {
  private readonly seen = new Map<string, number>();

  constructor(private readonly keepSeconds: number, private readonly now: () => number = Date.now) {}

  /** True the first time `jti` is offered within the window. */
  firstTime(jti: string): boolean {
    const now = this.now();
    for (const [id, until] of this.seen) if (until <= now) this.seen.delete(id);
    if (this.seen.has(jti)) return false;
    this.seen.set(jti, now + this.keepSeconds * 1000);
    return true;
  }
}

const newId = () => randomBytes(32).toString('base64url');
