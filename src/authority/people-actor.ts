import { adminActorOf, type AppContext } from '../http/context.js';
import type { PeopleActor } from './people.js';

/** The /api/admin actor as the people acts name it: an admin person, or an admin client of their organisation. */
export function peopleActorOf(c: AppContext): PeopleActor {
  const actor = adminActorOf(c);
  return actor.kind === 'person' ? { kind: 'admin', userId: actor.user.id } : { kind: 'client', clientId: actor.clientId, organisationId: actor.organisationId };
}
