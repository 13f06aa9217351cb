/**
 * Whether the End-User must (re-)authenticate before a code is issued (OIDC Core
 * §3.1.2.3): no session, `prompt=login` (or `select_account`: one account per
 * browser, so choosing means signing in), `max_age` exceeded, or a session below the
 * requested acr. A sign-in completed after the request was made satisfies `login`
 * and `max_age`, which is how the request resumes after the sign-in page.
 */
import type { Session } from '../../db/schema.js';
import { acrSatisfies } from './acr.js';
import type { Prompt } from './params.js';

export type SignInReason = 'no_session' | 'prompt_login' | 'max_age' | 'acr';

export interface AuthenticationState {
  session: Pick<Session, 'auth_time' | 'acr'> | undefined;
  prompt: readonly Prompt[];
  maxAge: number | undefined;
  requiredAcr: string | undefined;
  now: Date;
  /** When the authorization request was first received; undefined on its first pass. */
  requestedAt: Date | undefined;
}

export function signInNeeded(state: AuthenticationState): SignInReason | undefined {
  const { session } = state;
  if (!session) return 'no_session';
  const signedInSinceRequest = state.requestedAt !== undefined && session.auth_time.getTime() >= state.requestedAt.getTime();
  if (!signedInSinceRequest) {
    if (state.prompt.includes('login') || state.prompt.includes('select_account')) return 'prompt_login';
    if (state.maxAge !== undefined && state.now.getTime() - session.auth_time.getTime() > state.maxAge * 1000) return 'max_age';
  }
  if (!acrSatisfies(session.acr, state.requiredAcr)) return 'acr';
  return undefined;
}
