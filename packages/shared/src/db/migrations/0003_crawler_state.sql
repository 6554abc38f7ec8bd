ALTER TABLE "rooms" ADD COLUMN "hidden_reason" text;--> statement-breakpoint
ALTER TABLE "servers" ADD COLUMN "consecutive_crawl_failures" integer DEFAULT 0 NOT NULL;