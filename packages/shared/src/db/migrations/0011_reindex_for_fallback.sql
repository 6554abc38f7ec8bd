-- With Meilisearch configured, PostgreSQL's room_search is now kept beside it as the fallback
-- (ADR 0203); until now it stayed empty there. Every room goes through the index queue once more,
-- so room_search is complete (on the embedded default, this rewrites the same documents once).
UPDATE "rooms" SET "indexed_version" = 0;
