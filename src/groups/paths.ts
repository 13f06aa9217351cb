/**
 * An organisation's group hierarchy, in memory: every group's path, and which
 * groups are sensitive. Pure functions over one organisation's groups, so a move
 * can be judged on the hierarchy as it would be after it (groups/move.ts).
 */
import type { Group } from '../db/schema.js';

export type GroupNode = Pick<Group, 'id' | 'parent_id' | 'name' | 'sensitive'>;

/** Every group's path in `groups` (one organisation's), by id. */
export function pathsOf(groups: readonly Pick<Group, 'id' | 'parent_id' | 'name'>[]): Map<string, string> {
  const byId = new Map(groups.map((g) => [g.id, g]));
  const paths = new Map<string, string>();
  const pathOf = (id: string): string => {
    const known = paths.get(id);
    if (known !== undefined) return known;
    const group = byId.get(id)!;
    const path = `${group.parent_id === null ? '' : pathOf(group.parent_id)}/${group.name}`;
    paths.set(id, path);
    return path;
  };
  for (const group of groups) pathOf(group.id);
  return paths;
}

/**
 * The ids of the sensitive groups: flagged, or one a client requires
 * (`requiredPaths`, lower-case), or under one that is. A member of a unit is in
 * its ancestors too (claims, required_groups), so joining anything under a
 * sensitive group is joining it.
 */
export function sensitiveGroupIds(groups: readonly GroupNode[], requiredPaths: ReadonlySet<string>): Set<string> {
  const byId = new Map(groups.map((g) => [g.id, g]));
  const paths = pathsOf(groups);
  const known = new Map<string, boolean>();
  const isSensitive = (id: string): boolean => {
    const cached = known.get(id);
    if (cached !== undefined) return cached;
    const group = byId.get(id)!;
    const sensitive = group.sensitive || requiredPaths.has(paths.get(id)!.toLowerCase()) || (group.parent_id !== null && isSensitive(group.parent_id));
    known.set(id, sensitive);
    return sensitive;
  };
  return new Set(groups.map((g) => g.id).filter(isSensitive));
}

/** `groupId` and every group under it. */
export function subtreeOf(groups: readonly Pick<Group, 'id' | 'parent_id'>[], groupId: string): Set<string> {
  const children = new Map<string, string[]>();
  for (const g of groups) if (g.parent_id !== null) children.set(g.parent_id, [...(children.get(g.parent_id) ?? []), g.id]);
  const subtree = new Set<string>();
  const visit = (id: string): void => {
    subtree.add(id);
    for (const child of children.get(id) ?? []) visit(child);
  };
  visit(groupId);
  return subtree;
}
