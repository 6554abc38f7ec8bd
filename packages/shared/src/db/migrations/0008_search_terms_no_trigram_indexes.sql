DROP INDEX "search_terms_trgm_idx";--> statement-breakpoint
DROP INDEX "search_terms_trgm_knn_idx";