import { fileURLToPath } from 'node:url';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import type { Database } from './client.ts';

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('./migrations', import.meta.url));

/**
 * Applies the drizzle-kit migrations in order. Safe to run from several processes at once:
 * a session advisory lock serialises them.
 */
export async function migrateDatabase(database: Database): Promise<void> {
  const reserved = await database.sql.reserve();
  try {
    await reserved`select pg_advisory_lock(hashtext('atlas-migrations'))`;
    await migrate(database.db, { migrationsFolder: MIGRATIONS_FOLDER, migrationsSchema: 'drizzle' });
  } finally {
    await reserved`select pg_advisory_unlock(hashtext('atlas-migrations'))`.catch(() => {});
    reserved.release();
  }
}

/** How many migrations the database has applied (0 before the first). */
export async function appliedMigrations(database: Database): Promise<number> {
  try {
    const [row] = await database.sql<{ n: string }[]>`select count(*) as n from drizzle.__drizzle_migrations`;
    return Number(row?.n ?? 0);
  } catch {
    return 0;
  }
}
