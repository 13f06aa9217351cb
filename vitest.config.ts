import { defineConfig } from 'vitest/config';

/** Files that replace a module (vi.mock) need a module graph of their own. */
const ISOLATED = ['test/passwords/hash.test.ts'];

export default defineConfig({
  test: {
    exclude: ['test/e2e/**', 'test/faults/**', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // A spy made in one test never leaks into the next.
    restoreMocks: true,
    // One migrated database per run, which each test database is copied from.
    globalSetup: ['test/support/migrated-database.ts'],
    // Nothing leaves loopback: a connection or lookup outside it fails the test file.
    setupFiles: ['test/support/no-egress.ts'],
    // Every statement template is checked against a fresh build of its statement (src/db/statement-template.ts).
    env: { WARTA_CHECK_STATEMENT_TEMPLATES: '1' },
    projects: [
      {
        extends: true,
        // Test files in one worker share loaded modules: importing the application once per
        // worker instead of once per file is most of a run's time. Sound because src/ keeps no
        // module-level mutable state (README, Architecture).
        test: { name: 'shared', include: ['test/**/*.test.ts', 'test/**/*.test.tsx'], exclude: ['test/e2e/**', 'test/faults/**', ...ISOLATED], isolate: false },
      },
      { extends: true, test: { name: 'isolated', include: ISOLATED } },
    ],
  },
});
