const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Whether an id from a URL or a body can name a row. Row ids are `uuid` columns and
 * PostgreSQL answers a malformed one with an error, so callers check first and
 * treat anything else as "not found", never as a server error.
 */
export const isUuid = (raw: string): boolean => UUID.test(raw);
