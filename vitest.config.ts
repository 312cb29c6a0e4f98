import { defineConfig } from 'vitest/config';

// Both tiers (vitest.unit.config.ts is the unit tier alone). Integration tests start real database
// servers and daemons; on a 2-core machine they are given generous timeouts and run in a bounded
// number of forks, after one build of dist/ (test/global-setup.ts).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    maxWorkers: 2,
    // No retry, in CI either: a test that passes only on its second try is a flake to fix (tests
    // wait for events and conditions with deadlines, never for fixed times).
  },
});
