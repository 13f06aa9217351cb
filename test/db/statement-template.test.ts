/** src/db/statement-template.ts: a statement built and compiled once per shape, sent with new values. */
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { statementTemplate } from '../../src/db/statement-template.js';
import { createTestRuntime } from '../support/runtime.js';

describe('statement templates', () => {
  it('builds and compiles once per shape, and sends each run its own values', async () => {
    const runtime = await createTestRuntime();
    let builds = 0;
    const template = statementTemplate('test', (db, values: { key: string; failures: number }, shape: 'plus' | 'minus') => {
      builds += 1;
      return sql<{ key: string; result: number }>`select ${values.key}::text as key, ${values.failures}::int ${shape === 'plus' ? sql`+` : sql`-`} 1 as result`;
    });
    const run = async (key: string, failures: number, shape: 'plus' | 'minus') => (await template.execute(runtime.db, { key, failures }, shape)).rows;
    expect(await run('a', 1, 'plus')).toEqual([{ key: 'a', result: 2 }]);
    expect(await run('b', 10, 'plus')).toEqual([{ key: 'b', result: 11 }]);
    expect(await run('c', 10, 'minus')).toEqual([{ key: 'c', result: 9 }]);
    // Once per shape to build the template, and once per run for the check the tests turn on.
    expect(builds).toBe(2 + 3);
  });

  it('keeps what the builder wrote as constants, and runs a query builder as well as raw SQL', async () => {
    const runtime = await createTestRuntime();
    const template = statementTemplate('test', (db, values: { prefix: string }) => db.selectFrom('rate_limits').select('key').where('key', 'like', sql<string>`${values.prefix} || ${'%'}`));
    await runtime.db.insertInto('rate_limits').values({ key: 'signin:ip:1', failures: 1, window_started_at: new Date(), updated_at: new Date() }).execute();
    expect((await template.execute(runtime.db, { prefix: 'signin:' })).rows).toEqual([{ key: 'signin:ip:1' }]);
    expect((await template.execute(runtime.db, { prefix: 'totp:' })).rows).toEqual([]);
  });

  it('takes values in nested objects, each field a parameter of its own', async () => {
    const runtime = await createTestRuntime();
    const template = statementTemplate('test', (_, values: { first: { key: string; count: number }; second: { key: string } }) => sql<{ v: string }>`select ${values.first.key}::text || ${values.first.count}::int || ${values.second.key}::text as v`);
    expect((await template.execute(runtime.db, { first: { key: 'a', count: 1 }, second: { key: 'b' } })).rows).toEqual([{ v: 'a1b' }]);
    expect((await template.execute(runtime.db, { first: { key: 'c', count: 2 }, second: { key: 'd' } })).rows).toEqual([{ v: 'c2d' }]);
  });

  it('refuses, under the tests, a builder that decides on a value without saying so in its shape', async () => {
    const runtime = await createTestRuntime();
    const template = statementTemplate('test', (_, values: { count: number }) => sql<{ v: number }>`select ${values.count === 0 ? sql`0` : sql`${values.count}::int`} as v`);
    await expect(template.execute(runtime.db, { count: 0 })).rejects.toThrow(/statement template test \(shape ''\): built from its values it differs from the template/);
    expect((await template.execute(runtime.db, { count: 5 })).rows).toEqual([{ v: 5 }]);
  });

  it('refuses a builder that computes with a value, or puts one inside a larger parameter', async () => {
    const runtime = await createTestRuntime();
    const computing = statementTemplate('test', (_, values: { name: string }) => sql`select ${values.name.trim()} as v`);
    await expect(computing.execute(runtime.db, { name: ' x ' })).rejects.toThrow(TypeError);
    const asText = statementTemplate('test', (_, values: { name: string }) => sql`select ${`user:${values.name}`} as v`);
    await expect(asText.execute(runtime.db, { name: 'x' })).rejects.toThrow(/the value 'name' was used as text or a number while building/);
    const asJson = statementTemplate('test', (_, values: { details: { a: number } }) => sql`select ${JSON.stringify(values.details)}::jsonb as v`);
    await expect(asJson.execute(runtime.db, { details: { a: 1 } })).rejects.toThrow(/the value 'details' was turned into JSON while building/);
    const inArray = statementTemplate('test', (_, values: { id: string }) => sql`select ${[values.id]}::text[] as v`);
    await expect(inArray.execute(runtime.db, { id: 'x' })).rejects.toThrow(/a value is part of a larger parameter/);
  });
});
