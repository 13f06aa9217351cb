import { defineConfig } from 'vitest/config';

/**
 * Fault suites (`npm run test:faults`): Warta as child processes against a private
 * PostgreSQL cluster each test creates with initdb, and against the embedded database.
 */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // The suites stop databases and kill servers: one at a time.
    fileParallelism: false,
    setupFiles: ['test/support/no-egress.ts'],
    env: { WARTA_CHECK_STATEMENT_TEMPLATES: '1' },
  },
});
