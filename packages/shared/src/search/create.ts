import type { Logger } from '../log/index.ts';
import { createFailoverSearchIndex } from './failover-index.ts';
import { createMeilisearchIndex } from './meilisearch-index.ts';
import { createPostgresSearchIndex } from './postgres-index.ts';
import type { SearchIndex } from './types.ts';

export interface SearchBackendConfig {
  databaseUrl: string;
  /** Meilisearch when set (MEILI_URL, MEILI_KEY), PostgreSQL full text otherwise. */
  meili: { url: string; key: string | undefined } | undefined;
  log?: Logger;
}

/**
 * The configured backend, initialised (tables checked, Meilisearch settings applied). With
 * Meilisearch, PostgreSQL's index is kept beside it and answers whenever Meilisearch cannot (see
 * createFailoverSearchIndex); Meilisearch being down does not stop the process from starting.
 */
export async function createSearchIndex(config: SearchBackendConfig): Promise<SearchIndex> {
  const postgres = createPostgresSearchIndex({ databaseUrl: config.databaseUrl });
  const index = config.meili
    ? createFailoverSearchIndex({
        primary: createMeilisearchIndex({ url: config.meili.url, key: config.meili.key }),
        fallback: postgres,
        databaseUrl: config.databaseUrl,
        ...(config.log ? { log: config.log } : {}),
      })
    : postgres;
  try {
    await index.init();
  } catch (error) {
    await index.close();
    throw error;
  }
  return index;
}
