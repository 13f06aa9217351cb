/** A row read as JSON (to_jsonb) with its timestamps (the `…_at` columns) back as Dates, as the driver returns them. */
export function withDates(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).map(([key, value]) => [key, key.endsWith('_at') && typeof value === 'string' ? new Date(value) : value]));
}
