import { type RawBuilder, sql } from 'kysely';
import type { Database } from './schema.js';

/**
 * An insert of one row as a step of a larger statement (a data-modifying CTE), made
 * only when `condition` holds: several writes that must happen together then cost
 * one round trip and commit together without BEGIN/COMMIT. The row travels as one
 * JSON parameter that json_populate_record turns into the table's column types, as
 * VALUES would; so JSON columns take the value itself (an array, an object), not
 * its text. A column left undefined keeps its default.
 */
export function insertRowWhen<T extends keyof Database & string>(table: T, row: { [C in keyof Database[T] & string]?: unknown }, condition: RawBuilder<boolean>): RawBuilder<unknown> {
  const names = Object.keys(row).filter((name) => row[name as keyof typeof row] !== undefined);
  const columns = sql.join(names.map((name) => sql.ref(name)));
  return sql`insert into ${sql.table(table)} (${columns})
    select ${columns} from json_populate_record(null::${sql.table(table)}, ${JSON.stringify(row)}::json)
    where ${condition}`;
}
