/**
 * Scopes that reach Warta itself rather than a relying service (issue 11, attack 4:
 * any consented client's `openid` token could list and revoke a user's sessions).
 * Only the instance operator, through the `warta` CLI on the host, may allow them to
 * a client; an organisation admin cannot, so one admin (or a stolen admin cookie)
 * cannot mint a client that manages every user's devices.
 *
 * Reserved now, whether or not a feature uses them yet: the whole `warta:` namespace
 * (`warta:account` for the messenger's device API, `warta:admin…` for later admin
 * scopes) and `scim`, so no client registered today already holds a name a later
 * release gives power to.
 */

/** The messenger's device API (`/api/me/*`); tokens carrying it are issued for Warta alone. */
export const ACCOUNT_SCOPE = 'warta:account';

/** SCIM provisioning (`/scim/v2`, src/scim/): a directory creating and deactivating an organisation's people. */
export const SCIM_SCOPE = 'scim';

export function isReservedScope(scope: string): boolean {
  return scope.startsWith('warta:') || scope === 'scim' || scope.startsWith('scim:');
}

/** The reserved scopes in a space-separated scope string, in order. */
export const reservedScopesIn = (scope: string): string[] => scope.split(' ').filter((s) => s !== '' && isReservedScope(s));
