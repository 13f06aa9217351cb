/**
 * The admin API by area, for access tokens (issue 13). A token reaches an
 * /api/admin route only with the scope of that route's area, so a machine that
 * syncs people cannot register clients. The session console needs no scope: a
 * person with the admin role holds every area.
 *
 * The scopes sit in the reserved `warta:` namespace (clients/reserved-scopes.ts):
 * an organisation admin cannot register or update a client to hold them; only
 * the instance operator can (`warta client set-admin-scopes`).
 */

export const ADMIN_AREAS = ['people', 'invitations', 'clients', 'organisation', 'receivers', 'recovery', 'audit'] as const;
export type AdminArea = (typeof ADMIN_AREAS)[number];

export const adminScopeOf = (area: AdminArea) => `warta:admin:${area}`;
export const ADMIN_SCOPES: readonly string[] = ADMIN_AREAS.map(adminScopeOf);
export const isAdminScope = (scope: string) => ADMIN_SCOPES.includes(scope);

/** The admin scopes in a space-separated scope string. */
export const adminScopesIn = (scope: string | null | undefined): string[] => (scope ?? '').split(' ').filter(isAdminScope);

/**
 * Every /api/admin route's area, by the path segment after /api/admin/. The one
 * table: a route under a segment missing here has no area, and a token is
 * refused there (fail closed); test/authority/admin-tokens.test.ts checks that
 * every route the app serves has one. The OpenAPI document itself needs any
 * admin scope: it describes acts, it performs none.
 */
const AREA_BY_SEGMENT: Readonly<Record<string, AdminArea | 'any'>> = {
  people: 'people',
  'role-requests': 'people',
  'change-requests': 'people',
  groups: 'people',
  attributes: 'people',
  invitations: 'invitations',
  clients: 'clients',
  organisation: 'organisation',
  'event-receivers': 'receivers',
  'recovery-cases': 'recovery',
  audit: 'audit',
  'openapi.json': 'any',
};

/** The area of an /api/admin path, `any` for the document, undefined for a path the table does not know. */
export function adminAreaOf(path: string): AdminArea | 'any' | undefined {
  const match = /^\/api\/admin\/([^/]+)/.exec(path);
  return match ? AREA_BY_SEGMENT[match[1]!] : undefined;
}
