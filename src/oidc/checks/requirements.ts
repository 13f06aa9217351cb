/**
 * Who may sign in to a client at all, by what their organisation says of them: the
 * client's `required_groups` (one of them, or a group under one of them) and
 * `required_attributes` (for every attribute named, one of its listed values).
 * A person who does not meet them is refused with `access_denied` (OIDC Core
 * §3.1.2.6) and told which requirement they miss, never given a code; a refresh
 * stops once they no longer meet them.
 */
import type { AttributeValue, OAuthClient } from '../../db/schema.js';

export type RequirementsClient = Pick<OAuthClient, 'required_groups' | 'required_attributes'>;

export interface PersonAuthority {
  /** Paths of the person's groups and of their ancestors (groups/service.ts groupPathsOf). */
  groups: readonly string[];
  attributes: Readonly<Record<string, AttributeValue>>;
}

export const hasRequirements = (client: RequirementsClient): boolean => client.required_groups.length > 0 || Object.keys(client.required_attributes).length > 0;

/** The requirement `person` misses, in words for the refusal; undefined when they meet every one. */
export function unmetRequirement(client: RequirementsClient, person: PersonAuthority): string | undefined {
  if (client.required_groups.length > 0) {
    const theirs = new Set(person.groups.map((path) => path.toLowerCase()));
    if (!client.required_groups.some((path) => theirs.has(path.toLowerCase()))) return `membership of ${client.required_groups.join(' or ')}`;
  }
  for (const [name, allowed] of Object.entries(client.required_attributes)) {
    const value = person.attributes[name];
    if (value === undefined || !allowed.includes(value)) return `${name} ${allowed.map((v) => JSON.stringify(v)).join(' or ')}`;
  }
  return undefined;
}
