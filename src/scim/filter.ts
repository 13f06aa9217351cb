/**
 * The part of the SCIM filter language (RFC 7644 §3.4.2.2) directories use to find
 * a resource before creating one: `eq`, `co` and `sw` on `userName` and `externalId`
 * (Users) or `displayName` and `externalId` (Groups), joined by `and`. Anything else
 * is `400 invalidFilter`, never a guess. `userName` and a group's `displayName`
 * compare case-insensitively (caseExact false, RFC 7643 §4.1.1, §4.2 and §8.7.1);
 * `externalId` exactly (caseExact true, RFC 7643 §3.1).
 */
import { isWellFormedText } from '../http/well-formed-input.js';
import { invalidFilter } from './errors.js';
import { GROUP_SCHEMA } from './group-resource.js';
import { canonical, USER_SCHEMA } from './user-resource.js';

export const MAX_FILTER_LENGTH = 1024;
const MAX_COMPARISONS = 10;

export const FILTER_ATTRIBUTES = ['userName', 'externalId'] as const;
export const GROUP_FILTER_ATTRIBUTES = ['displayName', 'externalId'] as const;
export const FILTER_OPERATORS = ['eq', 'co', 'sw'] as const;

export interface Comparison<A extends string> {
  attribute: A;
  operator: (typeof FILTER_OPERATORS)[number];
  value: string;
}
export type UserComparison = Comparison<(typeof FILTER_ATTRIBUTES)[number]>;
export type GroupComparison = Comparison<(typeof GROUP_FILTER_ATTRIBUTES)[number]>;

// attrPath SP compareOp SP compValue, the value a JSON string (RFC 7644 §3.4.2.2: "A JSON string").
const COMPARISON = /^\s*([A-Za-z][\w:.-]*)\s+([A-Za-z]+)\s+("(?:[^"\\]|\\.)*")\s*/;
const AND = /^\s*and\s+/i;

export const parseUserFilter = (filter: string): UserComparison[] => parseFilter(filter, { resource: 'users', schema: USER_SCHEMA, attributes: FILTER_ATTRIBUTES });
export const parseGroupFilter = (filter: string): GroupComparison[] => parseFilter(filter, { resource: 'groups', schema: GROUP_SCHEMA, attributes: GROUP_FILTER_ATTRIBUTES });

function parseFilter<A extends string>(filter: string, on: { resource: string; schema: string; attributes: readonly A[] }): Comparison<A>[] {
  if (filter.length > MAX_FILTER_LENGTH) throw invalidFilter(`a filter is at most ${MAX_FILTER_LENGTH} characters`);
  const comparisons: Comparison<A>[] = [];
  const names = on.attributes.join(' or ');
  let rest = filter;
  for (;;) {
    const match = COMPARISON.exec(rest);
    if (!match) throw invalidFilter(`Warta filters ${on.resource} by ${names} with eq, co or sw and a quoted value, joined by and`);
    const path = match[1]!.startsWith(`${on.schema}:`) ? match[1]!.slice(on.schema.length + 1) : match[1]!;
    const attribute = canonical(path, on.attributes);
    if (!attribute) throw invalidFilter(`cannot filter on ${path}: only ${on.attributes.join(' and ')}`);
    const operator = canonical(match[2]!, FILTER_OPERATORS);
    if (!operator) throw invalidFilter(`operator ${match[2]} is not supported: only eq, co and sw`);
    let value: unknown;
    try {
      value = JSON.parse(match[3]!);
    } catch {
      throw invalidFilter('the filter value is not a valid JSON string');
    }
    // A JSON escape can spell what the query-string check refused raw (`\u0000`); PostgreSQL refuses a NUL in text.
    if (!isWellFormedText(value as string)) throw invalidFilter('the filter value contains a control character or a lone surrogate');
    comparisons.push({ attribute, operator, value: value as string });
    if (comparisons.length > MAX_COMPARISONS) throw invalidFilter(`at most ${MAX_COMPARISONS} comparisons`);
    rest = rest.slice(match[0].length);
    if (rest.trim() === '') return comparisons;
    const and = AND.exec(rest);
    if (!and) throw invalidFilter('comparisons are joined by and; or, not and grouping are not supported');
    rest = rest.slice(and[0].length);
  }
}

/** `value` as a LIKE pattern matching itself literally (backslash is PostgreSQL's default escape). */
export const likeLiteral = (value: string) => value.replace(/[\\%_]/g, (c) => `\\${c}`);
