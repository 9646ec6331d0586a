import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    // Collects the logs of the whole run and fails it if they hold any credential (packages/server/test/global/log-scan.ts).
    globalSetup: ['packages/server/test/global/log-scan.ts'],
    pool: 'forks',
    // Two files at a time (vitest's default is one less than the cores: one on these 2-core machines). Most files
    // spend their time waiting on spawned servers, PostgreSQL, Redis and Chromium, so two overlap well.
    maxWorkers: 2,
    // Each file still builds its own apps, stores and servers; what is shared is the module graph, so the server's
    // TypeScript is transformed and imported once per worker instead of once per file (measured: import time of a
    // full run 625 s -> 68 s). Files must not depend on module-level state left by another file.
    isolate: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
