/**
 * The part of the SCIM filter language (RFC 7644 §3.4.2.2) directories use to find
 * a person before creating one: `eq`, `co` and `sw` on `userName` and `externalId`,
 * joined by `and`. Anything else is `400 invalidFilter`, never a guess.
 * `userName` compares case-insensitively (its caseExact is false, RFC 7643 §4.1.1);
 * `externalId` exactly (caseExact true, RFC 7643 §3.1).
 */
import { isWellFormedText } from '../http/well-formed-input.js';
import { invalidFilter } from './errors.js';
import { canonical, USER_SCHEMA } from './user-resource.js';

export const MAX_FILTER_LENGTH = 1024;
const MAX_COMPARISONS = 10;

export const FILTER_ATTRIBUTES = ['userName', 'externalId'] as const;
export const FILTER_OPERATORS = ['eq', 'co', 'sw'] as const;

export interface UserComparison {
  attribute: (typeof FILTER_ATTRIBUTES)[number];
  operator: (typeof FILTER_OPERATORS)[number];
  value: string;
}

// attrPath SP compareOp SP compValue, the value a JSON string (RFC 7644 §3.4.2.2: "A JSON string").
const COMPARISON = /^\s*([A-Za-z][\w:.-]*)\s+([A-Za-z]+)\s+("(?:[^"\\]|\\.)*")\s*/;
const AND = /^\s*and\s+/i;

export function parseUserFilter(filter: string): UserComparison[] {
  if (filter.length > MAX_FILTER_LENGTH) throw invalidFilter(`a filter is at most ${MAX_FILTER_LENGTH} characters`);
  const comparisons: UserComparison[] = [];
  let rest = filter;
  for (;;) {
    const match = COMPARISON.exec(rest);
    if (!match) throw invalidFilter('Warta filters users by userName or externalId with eq, co or sw and a quoted value, joined by and');
    const path = match[1]!.startsWith(`${USER_SCHEMA}:`) ? match[1]!.slice(USER_SCHEMA.length + 1) : match[1]!;
    const attribute = canonical(path, FILTER_ATTRIBUTES);
    if (!attribute) throw invalidFilter(`cannot filter on ${path}: only userName and externalId`);
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
