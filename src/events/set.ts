import type { Clock } from '../clock.js';
import type { SigningKeys } from '../crypto/signing-keys.js';
import type { SecurityEventRow } from '../db/schema.js';
import { EVENT_TYPE_URIS, eventPayload, isSecurityEventType, setSubject } from './types.js';
import { type SubjectClient, subjectFor } from '../oidc/subject.js';

/** RFC 8417 §2.3: the explicit type that keeps a SET from being mistaken for an ID or access token. */
export const SET_TYP = 'secevent+jwt';

/**
 * The Security Event Token (RFC 8417) for one event and one receiver. Signed
 * at each delivery attempt, so it always carries a key the JWKS publishes now;
 * `jti` stays the same across attempts so a receiver can drop a repeat.
 * No `exp` and no top-level `sub` (RFC 8417 §2.2, SSF: the subject is `sub_id`).
 */
export async function signSecurityEventToken(
  deps: { signingKeys: SigningKeys; clock: Clock; config: { issuer: string }; pairwiseSubjectKey: Uint8Array },
  input: { jti: string; audience: string; event: SecurityEventRow; /** The pairwise client the audience names: the user is named by the `sub` it sees. */ audienceClient?: SubjectClient | undefined },
): Promise<string> {
  const { event } = input;
  if (!isSecurityEventType(event.type)) throw new Error(`security event ${event.id} has unknown type "${event.type}"`);
  const details = event.details as Record<string, unknown>;
  return deps.signingKeys.sign(
    {
      iss: deps.config.issuer,
      iat: Math.floor(deps.clock.now().getTime() / 1000),
      jti: input.jti,
      aud: input.audience,
      ...(event.txn ? { txn: event.txn } : {}),
      sub_id: setSubject(deps.config.issuer, event.user_id === null || input.audienceClient === undefined ? event.user_id : subjectFor(deps, input.audienceClient, event.user_id), event.type, details),
      events: {
        [EVENT_TYPE_URIS[event.type]]: eventPayload(event.type, details, { occurredAt: event.occurred_at, initiatingEntity: event.initiating_entity }),
      },
    },
    { typ: SET_TYP },
  );
}
