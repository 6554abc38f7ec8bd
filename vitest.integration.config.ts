import { defineConfig } from 'vitest/config';

// Integration tests run real PostgreSQL, Redis, Synapse, HAProxy, coturn and Chromium.
// They share one PostgreSQL server (started once in global setup) and isolate each test
// file in its own database and its own queue names.
export default defineConfig({
  test: {
    include: [
      'test/integration/**/*.test.ts',
      'test/synapse/**/*.test.ts',
      'test/deploy/**/*.test.ts',
      'test/e2e/**/*.test.ts',
    ],
    exclude: ['**/node_modules/**'],
    environment: 'node',
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    fileParallelism: false,
    pool: 'forks',
  },
});
