-- Extensions and the text search configuration that the PostgreSQL search backend needs. Both
-- extensions are "trusted" (PostgreSQL 13+), so a database owner can create them.
CREATE EXTENSION IF NOT EXISTS pg_trgm;--> statement-breakpoint
CREATE EXTENSION IF NOT EXISTS unaccent;--> statement-breakpoint
-- Room names are in every language, so no stemming: the simple dictionary, with accents folded
-- first (PostgreSQL docs, unaccent: "used as a filtering dictionary").
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'atlas_search') THEN
    CREATE TEXT SEARCH CONFIGURATION atlas_search (COPY = simple);
    ALTER TEXT SEARCH CONFIGURATION atlas_search
      ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part, numword, numhword, hword_numpart
      WITH unaccent, simple;
  END IF;
END
$$;
