import { isDeepStrictEqual } from 'node:util';
import { type CompiledQuery, createQueryId, type Kysely, type QueryResult } from 'kysely';
import type { Database } from './schema.js';

/**
 * A statement built with kysely and compiled once per shape, then sent with new values.
 *
 * Building a large statement with kysely's builders and compiling it to SQL costs tens
 * of microseconds each time, and on a sign-in that was about a sixth of Warta's own
 * work: the same text, built again for every request, only its values differing. A
 * template builds its statement once from slots standing for the values, keeps the
 * text and where each slot landed among the parameters, and afterwards only fills the
 * parameters in. The text is then the same string every time, so the prepared-statement
 * lookup (src/db/prepared.ts) is cheap as well.
 *
 * The builder must be a function of its values and its `shape` only: no clock, no
 * random ids, and no decision on a value (a value is a slot while it builds, which
 * refuses to be read as text, a number or JSON). What changes the text (an operator
 * that depends on a value, an optional clause) goes in `shape`, one compiled text per
 * shape; every template declares its shapes as a small closed set, so the texts per
 * process stay bounded. Under the tests (`WARTA_CHECK_STATEMENT_TEMPLATES=1`, set by
 * vitest.config.ts) every run also builds the statement from its real values and
 * refuses to run when that differs from the template's text or parameters: a builder
 * that decides on a value without saying so in its shape fails the test that reaches it.
 * The text is compiled with the first database that runs the template: every database
 * Warta opens speaks PostgreSQL's dialect, and none has a plugin that rewrites statements.
 */
export interface StatementTemplate<Values extends object, Shape extends string, Row> {
  /** Runs the statement with `values`; a template of one shape needs none. */
  execute(db: Kysely<Database>, values: Values, shape?: Shape): Promise<QueryResult<Row>>;
}

/** A query builder's statement (whose compile takes nothing) or a raw `sql` one (which takes the database). */
interface Buildable<Row> {
  compile(db: Kysely<Database>): CompiledQuery<Row>;
}

export type TemplateBuilder<Values extends object, Shape extends string, Row> = (db: Kysely<Database>, values: Values, shape: Shape) => Buildable<Row>;

/**
 * Where a value goes: while a template builds, each value is a slot naming its path in
 * the values (`first.key`). Reading a field of a slot gives the slot of that field; a
 * slot refuses to be read as text, a number or JSON.
 */
class Slot {
  constructor(readonly path: readonly string[]) {}
}

const PATH = Symbol('path');

function slot(path: readonly string[]): Slot {
  const refuse = (what: string) => () => {
    throw new Error(`statement template: the value '${path.join('.')}' was ${what} while building; work it out before, or make it part of the shape`);
  };
  return new Proxy(new Slot(path), {
    get(target, key) {
      if (key === PATH) return target.path;
      if (key === Symbol.toPrimitive) return refuse('used as text or a number');
      if (key === 'toJSON') return refuse('turned into JSON');
      return typeof key === 'string' ? slot([...path, key]) : undefined;
    },
  });
}

const pathOf = (parameter: Slot): readonly string[] => (parameter as unknown as { [PATH]: readonly string[] })[PATH];

function valueAt(values: object, path: readonly string[]): unknown {
  let value: unknown = values;
  for (const key of path) value = (value as Record<string, unknown> | null | undefined)?.[key];
  return value;
}

interface Compiled {
  sql: string;
  /** The statement's tree, its values still slots: kysely wants it, nothing here reads it. */
  query: CompiledQuery['query'];
  /** Each parameter: the path of the value that fills it, or the constant the builder wrote. */
  parameters: readonly ({ path: readonly string[] } | { constant: unknown })[];
}

const checking = process.env.WARTA_CHECK_STATEMENT_TEMPLATES === '1';

export function statementTemplate<Values extends object, Shape extends string, Row>(name: string, build: TemplateBuilder<Values, Shape, Row>): StatementTemplate<Values, Shape, Row> {
  const compiledByShape = new Map<Shape, Compiled>();
  const slots = new Proxy({} as Values, { get: (_, key) => (typeof key === 'string' ? slot([key]) : undefined) });

  function compile(db: Kysely<Database>, shape: Shape): Compiled {
    const compiled = build(db, slots, shape).compile(db);
    for (const parameter of compiled.parameters) if (!(parameter instanceof Slot) && containsSlot(parameter)) throw new Error(`statement template ${name}: a value is part of a larger parameter; make it a parameter of its own`);
    return { sql: compiled.sql, query: compiled.query, parameters: compiled.parameters.map((parameter) => (parameter instanceof Slot ? { path: pathOf(parameter) } : { constant: parameter })) };
  }

  return {
    async execute(db, values, shape = '' as Shape) {
      let compiled = compiledByShape.get(shape);
      if (!compiled) compiledByShape.set(shape, (compiled = compile(db, shape)));
      const parameters = compiled.parameters.map((parameter) => ('path' in parameter ? valueAt(values, parameter.path) : parameter.constant));
      if (checking) {
        const fresh = build(db, values, shape).compile(db);
        if (fresh.sql !== compiled.sql || !isDeepStrictEqual(fresh.parameters, parameters))
          throw new Error(`statement template ${name} (shape '${shape}'): built from its values it differs from the template; a value decides part of the statement without being in its shape`);
      }
      return db.executeQuery<Row>({ sql: compiled.sql, query: compiled.query, parameters, queryId: createQueryId() });
    },
  };
}

function containsSlot(value: unknown): boolean {
  if (value instanceof Slot) return true;
  if (Array.isArray(value)) return value.some(containsSlot);
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) return Object.values(value).some(containsSlot);
  return false;
}
