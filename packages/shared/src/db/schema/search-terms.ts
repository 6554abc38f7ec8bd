import { index, pgTable, text } from 'drizzle-orm/pg-core';

/**
 * Every word the PostgreSQL search backend has indexed, for typo tolerance: a query word that
 * matches no document is replaced by its nearest words here (pg_trgm similarity). Matching
 * trigrams against this small table is far cheaper than against every document (PostgreSQL's
 * pg_trgm documentation, "Text Search Integration"). Append-only between rebuilds: a word left
 * over from a removed room only costs a wasted alternative.
 */
export const searchTerms = pgTable(
  'search_terms',
  {
    term: text('term').primaryKey(),
  },
  (t) => [
    index('search_terms_trgm_idx').using('gin', t.term.op('gin_trgm_ops')),
    // Nearest words first (KNN, `term <-> word`): GIN cannot order by distance.
    index('search_terms_trgm_knn_idx').using('gist', t.term.op('gist_trgm_ops')),
  ],
);
