import { defineConfig } from 'vitest/config';

/**
 * One Temporal dev server for the whole run (test/global-setup.ts); test files connect to it
 * and run their own workers on unique task queues. Two workers suit the 2-core CI machine.
 * The JSON report feeds the `N passed, N failed` summary printed by scripts/test.ts.
 */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default', ['json', { outputFile: '.test-results/vitest.json' }]],
  },
});
