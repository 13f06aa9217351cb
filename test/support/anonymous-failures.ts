import type { Runtime } from '../../src/runtime.js';

/** Anonymous failures of `action` counted under `key` and not yet audited (src/audit/anonymous-failures.ts), over every open window. */
export async function anonymousFailureCount(runtime: Runtime, action: string, key: string): Promise<number> {
  const rows = await runtime.db.selectFrom('anonymous_failure_counts').select('count').where('action', '=', action).where('key', '=', key).execute();
  return rows.reduce((sum, row) => sum + Number(row.count), 0);
}
