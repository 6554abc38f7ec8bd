CREATE TABLE "search_index_misses" (
	"index_uid" text NOT NULL,
	"room_id" text NOT NULL,
	"missed_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
	CONSTRAINT "search_index_misses_index_uid_room_id_pk" PRIMARY KEY("index_uid","room_id")
);
--> statement-breakpoint
CREATE TABLE "search_index_state" (
	"index_uid" text PRIMARY KEY NOT NULL,
	"index_created_at" text NOT NULL,
	"rebuilt_at" timestamp with time zone DEFAULT now() NOT NULL
);
