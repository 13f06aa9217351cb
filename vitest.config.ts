import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    exclude: ['test/e2e/**', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // A spy made in one test never leaks into the next.
    restoreMocks: true,
    // One migrated database per run, which each test database is copied from.
    globalSetup: ['test/support/migrated-database.ts'],
  },
});
