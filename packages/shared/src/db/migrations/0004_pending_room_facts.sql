CREATE TABLE "pending_room_facts" (
	"server_name" text NOT NULL,
	"room_id" text NOT NULL,
	"queued_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "pending_room_facts_server_name_room_id_pk" PRIMARY KEY("server_name","room_id")
);
--> statement-breakpoint
ALTER TABLE "pending_room_facts" ADD CONSTRAINT "pending_room_facts_server_name_servers_name_fk" FOREIGN KEY ("server_name") REFERENCES "public"."servers"("name") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pending_room_facts" ADD CONSTRAINT "pending_room_facts_room_id_rooms_room_id_fk" FOREIGN KEY ("room_id") REFERENCES "public"."rooms"("room_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "pending_room_facts_room_idx" ON "pending_room_facts" USING btree ("room_id");