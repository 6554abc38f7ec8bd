CREATE TABLE "blocks" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"pattern" text NOT NULL,
	"reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "blocks_pattern_unique" UNIQUE("pattern")
);
--> statement-breakpoint
CREATE TABLE "crawl_runs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"server_name" text NOT NULL,
	"mode" text NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"status" text DEFAULT 'running' NOT NULL,
	"stop_reason" text,
	"pages" integer DEFAULT 0 NOT NULL,
	"rooms_seen" integer DEFAULT 0 NOT NULL,
	"rooms_stored" integer DEFAULT 0 NOT NULL,
	"rooms_malformed" integer DEFAULT 0 NOT NULL,
	"rooms_noindex" integer DEFAULT 0 NOT NULL,
	"error" text
);
--> statement-breakpoint
CREATE TABLE "reports" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"room_id" text,
	"server_name" text,
	"reason" text NOT NULL,
	"reporter_ip" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"resolved_at" timestamp with time zone,
	"resolution" text
);
--> statement-breakpoint
CREATE TABLE "room_listings" (
	"room_id" text NOT NULL,
	"server_name" text NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	CONSTRAINT "room_listings_room_id_server_name_pk" PRIMARY KEY("room_id","server_name")
);
--> statement-breakpoint
CREATE TABLE "room_snapshots" (
	"room_id" text NOT NULL,
	"day" date NOT NULL,
	"num_joined_members" integer NOT NULL,
	CONSTRAINT "room_snapshots_room_id_day_pk" PRIMARY KEY("room_id","day")
);
--> statement-breakpoint
CREATE TABLE "rooms" (
	"room_id" text PRIMARY KEY NOT NULL,
	"name" text,
	"topic" text,
	"canonical_alias" text,
	"avatar_url" text,
	"num_joined_members" integer DEFAULT 0 NOT NULL,
	"world_readable" boolean DEFAULT false NOT NULL,
	"guest_can_join" boolean DEFAULT false NOT NULL,
	"join_rule" text DEFAULT 'public' NOT NULL,
	"room_type" text,
	"language" text,
	"complexity" real,
	"complexity_source" text,
	"complexity_server" text,
	"complexity_at" timestamp with time zone,
	"servers_in_room" integer,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"stale_since" timestamp with time zone,
	"hidden" boolean DEFAULT false NOT NULL,
	"version" bigint DEFAULT 1 NOT NULL,
	"indexed_version" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "server_checks" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"server_name" text NOT NULL,
	"checked_at" timestamp with time zone DEFAULT now() NOT NULL,
	"reachable" boolean NOT NULL,
	"latency_ms" integer,
	"software_name" text,
	"software_version" text,
	"key_ids" jsonb,
	"keys_valid" boolean,
	"keys_valid_until" timestamp with time zone,
	"client_base_url" text,
	"contacts" jsonb,
	"support_page" text,
	"registration" text,
	"registration_stages" jsonb,
	"cert_expires_at" timestamp with time zone,
	"resolution" text,
	"delegated_to" text,
	"error" text
);
--> statement-breakpoint
CREATE TABLE "servers" (
	"name" text PRIMARY KEY NOT NULL,
	"status" text DEFAULT 'new' NOT NULL,
	"found_via" text NOT NULL,
	"found_from" text,
	"discovered_at" timestamp with time zone DEFAULT now() NOT NULL,
	"software_name" text,
	"software_version" text,
	"registration" text DEFAULT 'unknown' NOT NULL,
	"registration_stages" jsonb,
	"publishes" boolean,
	"crawl_mode" text,
	"room_count" integer,
	"client_base_url" text,
	"contacts" jsonb,
	"support_page" text,
	"delegated_to" text,
	"resolution" text,
	"latency_ms" integer,
	"cert_expires_at" timestamp with time zone,
	"last_probe_at" timestamp with time zone,
	"last_seen_online_at" timestamp with time zone,
	"last_error" text,
	"last_crawl_at" timestamp with time zone,
	"last_crawl_outcome" text,
	"consecutive_failures" integer DEFAULT 0 NOT NULL,
	"next_probe_at" timestamp with time zone DEFAULT now() NOT NULL,
	"next_crawl_at" timestamp with time zone,
	"uptime_30d" real,
	"version" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "crawl_runs" ADD CONSTRAINT "crawl_runs_server_name_servers_name_fk" FOREIGN KEY ("server_name") REFERENCES "public"."servers"("name") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "room_listings" ADD CONSTRAINT "room_listings_room_id_rooms_room_id_fk" FOREIGN KEY ("room_id") REFERENCES "public"."rooms"("room_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "room_listings" ADD CONSTRAINT "room_listings_server_name_servers_name_fk" FOREIGN KEY ("server_name") REFERENCES "public"."servers"("name") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "room_snapshots" ADD CONSTRAINT "room_snapshots_room_id_rooms_room_id_fk" FOREIGN KEY ("room_id") REFERENCES "public"."rooms"("room_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "server_checks" ADD CONSTRAINT "server_checks_server_name_servers_name_fk" FOREIGN KEY ("server_name") REFERENCES "public"."servers"("name") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "crawl_runs_server_idx" ON "crawl_runs" USING btree ("server_name","started_at");--> statement-breakpoint
CREATE INDEX "reports_open_idx" ON "reports" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "room_listings_server_idx" ON "room_listings" USING btree ("server_name","last_seen_at");--> statement-breakpoint
CREATE INDEX "rooms_members_idx" ON "rooms" USING btree ("num_joined_members");--> statement-breakpoint
CREATE INDEX "rooms_unindexed_idx" ON "rooms" USING btree ("room_id") WHERE "rooms"."version" <> "rooms"."indexed_version";--> statement-breakpoint
CREATE INDEX "rooms_alias_idx" ON "rooms" USING btree ("canonical_alias");--> statement-breakpoint
CREATE INDEX "server_checks_server_time_idx" ON "server_checks" USING btree ("server_name","checked_at");--> statement-breakpoint
CREATE INDEX "servers_next_probe_idx" ON "servers" USING btree ("next_probe_at");--> statement-breakpoint
CREATE INDEX "servers_next_crawl_idx" ON "servers" USING btree ("next_crawl_at") WHERE "servers"."next_crawl_at" is not null;--> statement-breakpoint
CREATE INDEX "servers_status_idx" ON "servers" USING btree ("status");