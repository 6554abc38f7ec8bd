ALTER TABLE "servers" ADD COLUMN "room_cap_reached_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "servers" ADD COLUMN "review_signals" jsonb;--> statement-breakpoint
ALTER TABLE "servers" ADD COLUMN "review_flagged_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "servers" ADD COLUMN "follow_up_ms" integer DEFAULT 0 NOT NULL;