import { defineConfig } from 'vitest/config';

// Unit tests: pure code next to its source, no servers, no network.
export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'deploy/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    environment: 'node',
  },
});
