import { randomBytes } from 'node:crypto';
import { connectDatabase, type Database } from '@atlas/shared/db';
import postgres from 'postgres';
import { inject } from 'vitest';

export interface TestDatabase extends Database {
  name: string;
  /** Drops the database; call in afterAll. */
  drop(): Promise<void>;
}

/** A fresh, migrated database of its own for one test file (or one test). */
export async function createTestDatabase(label = 'test'): Promise<TestDatabase> {
  const adminUrl = inject('pgAdminUrl');
  const template = inject('pgTemplate');
  const name = `${label
    .replace(/[^a-z0-9_]/gi, '_')
    .toLowerCase()
    .slice(0, 30)}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}" template "${template}"`);
  } finally {
    await admin.end();
  }
  const url = adminUrl.replace(/\/postgres$/, `/${name}`);
  const database = connectDatabase(url, { max: 10 });
  return {
    ...database,
    name,
    async drop() {
      await database.close();
      const cleanup = postgres(adminUrl, { max: 1, onnotice: () => {} });
      try {
        await cleanup.unsafe(`drop database if exists "${name}" with (force)`);
      } finally {
        await cleanup.end();
      }
    },
  };
}

/** A queue namespace no other test uses (the Redis key prefix). */
export function randomNamespace(label = 't'): string {
  return `${label}_${randomBytes(4).toString('hex')}`;
}
