import { createMeilisearchIndex } from './meilisearch-index.ts';
import { createPostgresSearchIndex } from './postgres-index.ts';
import type { SearchIndex } from './types.ts';

export interface SearchBackendConfig {
  databaseUrl: string;
  /** Meilisearch when set (MEILI_URL, MEILI_KEY), PostgreSQL full text otherwise. */
  meili: { url: string; key: string | undefined } | undefined;
}

/** The configured backend, initialised (tables checked, or Meilisearch settings applied). */
export async function createSearchIndex(config: SearchBackendConfig): Promise<SearchIndex> {
  const index = config.meili
    ? createMeilisearchIndex({ url: config.meili.url, key: config.meili.key })
    : createPostgresSearchIndex({ databaseUrl: config.databaseUrl });
  try {
    await index.init();
  } catch (error) {
    await index.close();
    throw error;
  }
  return index;
}
