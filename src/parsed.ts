/**
 * A request's fields once read, or why they could not be read. Some refusals are
 * the domain's to count or audit (a malformed sign-in is a failed attempt, a
 * malformed recovery step an audited refusal), so the route hands over the outcome
 * of reading instead of answering a malformed request itself.
 */
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: unknown };

export function parse<T>(read: () => T): Parsed<T> {
  try {
    return { ok: true, value: read() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** The value, or the error reading it gave, thrown where the domain counts or audits it. */
export function parsedValue<T>(parsed: Parsed<T>): T {
  if (!parsed.ok) throw parsed.error;
  return parsed.value;
}
