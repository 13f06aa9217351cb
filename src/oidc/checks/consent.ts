/**
 * Whether the End-User must be asked to consent (OIDC Core §3.1.2.4). First-party
 * clients (operated by whoever runs Warta) are trusted; others need a stored consent
 * covering every requested scope. `prompt=consent` always asks.
 */
import type { Prompt } from './params.js';
import { parseScope } from './scope.js';

export interface ConsentState {
  firstParty: boolean;
  prompt: readonly Prompt[];
  scopes: readonly string[];
  /** The scopes the user consented to earlier, if ever. */
  consentedScope: string | undefined;
}

export function consentNeeded(state: ConsentState): boolean {
  if (state.prompt.includes('consent')) return true;
  if (state.firstParty) return false;
  if (state.consentedScope === undefined) return true;
  const consented = new Set(parseScope(state.consentedScope));
  return state.scopes.some((scope) => !consented.has(scope));
}
