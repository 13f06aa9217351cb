/**
 * The `sub` a client sees (OIDC Core §8). A `public` client sees the user's id. A
 * `pairwise` client sees base64url(HMAC-SHA256(key, sector || user id)) (§8.1): one
 * value per person and sector, so services of different sectors cannot correlate a
 * person by `sub`, while the clients of one sector (one service with several
 * clients) see the same one. The key is an instance secret, shared by every instance
 * and never shown; without it the value cannot be reversed or predicted.
 *
 * The sector: §8.1 would fetch a `sector_identifier_uri`, but Warta makes no
 * outbound call. It is the host of the client's redirect URIs when they all share
 * one (what §8.1 takes when no sector_identifier_uri is registered), or a string the
 * operator names (`sector_identifier`) for a service whose clients live on several hosts.
 */
import { createHmac } from 'node:crypto';
import type { OAuthClient } from '../db/schema.js';
import { redirectUrisHost } from '../clients/sector.js';

export type SubjectClient = Pick<OAuthClient, 'subject_type' | 'sector_identifier' | 'redirect_uris'>;

/** The client's pairwise sector; undefined for a public client. */
export function sectorOf(client: SubjectClient): string | undefined {
  if (client.subject_type !== 'pairwise') return undefined;
  const sector = client.sector_identifier ?? redirectUrisHost(client.redirect_uris);
  // Registration refuses a pairwise client with neither (clients/metadata.ts): never fall back to the public id.
  if (sector === undefined) throw new Error('a pairwise client without a sector');
  return sector;
}

export function pairwiseSubject(key: Uint8Array, sector: string, userId: string): string {
  return createHmac('sha256', key).update(sector).update(userId).digest('base64url');
}

/** The `sub` `client` sees for `userId`, in every token and answer it gets. */
export function subjectFor(deps: { pairwiseSubjectKey: Uint8Array }, client: SubjectClient, userId: string): string {
  const sector = sectorOf(client);
  return sector === undefined ? userId : pairwiseSubject(deps.pairwiseSubjectKey, sector, userId);
}
