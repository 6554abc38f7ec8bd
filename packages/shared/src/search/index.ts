export * from './create.ts';
export * from './cursor.ts';
export * from './documents.ts';
export * from './indexer.ts';
export * from './language.ts';
export * from './meilisearch-index.ts';
export * from './postgres-index.ts';
export * from './types.ts';
