import { defineConfig } from 'vitest/config';

/** Browser tests: real Warta servers driven through headless Debian Chromium (test/support/browser.ts). */
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // One Chromium at a time keeps small CI machines responsive.
    fileParallelism: false,
    // Nothing leaves loopback, neither Warta nor the test (Chromium: see launchBrowser).
    setupFiles: ['test/support/no-egress.ts'],
    env: { WARTA_CHECK_STATEMENT_TEMPLATES: '1' },
  },
});
