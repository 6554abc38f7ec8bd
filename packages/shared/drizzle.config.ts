import { defineConfig } from 'drizzle-kit';

// Only `drizzle-kit generate` uses this file; migrations are applied by `atlas migrate`.
export default defineConfig({
  dialect: 'postgresql',
  schema: './packages/shared/src/db/schema/index.ts',
  out: './packages/shared/src/db/migrations',
  casing: 'snake_case',
});
