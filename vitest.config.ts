import { defineConfig } from 'vitest/config';

// Integration tests start real database servers and daemons; on a 2-core machine they are
// given generous timeouts and run in a bounded number of forks.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    maxWorkers: 2,
    // In CI one retry absorbs a real server or JVM starved by a concurrent suite on two cores;
    // a failure that repeats still fails the run, and local runs never retry.
    retry: process.env.CI ? 1 : 0,
  },
});
