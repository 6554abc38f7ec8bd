import { pgTable, text } from 'drizzle-orm/pg-core';

/**
 * Every word the PostgreSQL search backend has indexed, for typo tolerance: the search process
 * loads them into memory (`TypoDictionary`), and a query word that matches no document is replaced
 * by the indexed words within one edit of it. Append-only between rebuilds: a word left over from
 * a removed room only costs a wasted alternative. Only read whole, so it needs no index beyond its
 * key.
 */
export const searchTerms = pgTable('search_terms', {
  term: text('term').primaryKey(),
});
