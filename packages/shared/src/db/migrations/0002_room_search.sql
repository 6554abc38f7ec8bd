CREATE TABLE "room_search" (
	"room_id" text PRIMARY KEY NOT NULL,
	"name" text,
	"topic" text,
	"canonical_alias" text,
	"avatar_url" text,
	"servers" text[] DEFAULT '{}'::text[] NOT NULL,
	"num_joined_members" integer NOT NULL,
	"world_readable" boolean NOT NULL,
	"guest_can_join" boolean NOT NULL,
	"join_rule" text NOT NULL,
	"room_type" text,
	"language" text,
	"complexity" real,
	"complexity_estimated" boolean DEFAULT false NOT NULL,
	"growth_7d" integer DEFAULT 0 NOT NULL,
	"growth_30d" integer DEFAULT 0 NOT NULL,
	"first_seen_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL,
	"stale" boolean DEFAULT false NOT NULL,
	"exact_keys" text[] DEFAULT '{}'::text[] NOT NULL,
	"document" "tsvector" NOT NULL,
	"indexed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "search_terms" (
	"term" text PRIMARY KEY NOT NULL
);
--> statement-breakpoint
CREATE INDEX "room_search_document_idx" ON "room_search" USING gin ("document");--> statement-breakpoint
CREATE INDEX "room_search_servers_idx" ON "room_search" USING gin ("servers");--> statement-breakpoint
CREATE INDEX "room_search_exact_idx" ON "room_search" USING gin ("exact_keys");--> statement-breakpoint
CREATE INDEX "room_search_members_idx" ON "room_search" USING btree ("num_joined_members","room_id");--> statement-breakpoint
CREATE INDEX "room_search_growth_7d_idx" ON "room_search" USING btree ("growth_7d","room_id");--> statement-breakpoint
CREATE INDEX "room_search_growth_30d_idx" ON "room_search" USING btree ("growth_30d","room_id");--> statement-breakpoint
CREATE INDEX "room_search_first_seen_idx" ON "room_search" USING btree ("first_seen_at","room_id");--> statement-breakpoint
CREATE INDEX "room_search_complexity_idx" ON "room_search" USING btree ("complexity","room_id");--> statement-breakpoint
CREATE INDEX "search_terms_trgm_idx" ON "search_terms" USING gin ("term" gin_trgm_ops);