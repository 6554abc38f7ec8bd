export * from './client.ts';
export * from './embedded.ts';
export * from './migrate.ts';
export * from './queries/index.ts';
export * as schema from './schema/index.ts';
export * from './schema/index.ts';
export * from './timestamps.ts';
export * from './unavailable.ts';
