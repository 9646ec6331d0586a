import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    // Collects the logs of the whole run and fails it if they hold any credential (packages/server/test/global/log-scan.ts).
    globalSetup: ['packages/server/test/global/log-scan.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
