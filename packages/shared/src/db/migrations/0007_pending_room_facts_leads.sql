ALTER TABLE "pending_room_facts" ADD COLUMN "priority" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "pending_room_facts" ADD COLUMN "leads_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "pending_room_facts" ADD COLUMN "residents" text[];--> statement-breakpoint
CREATE INDEX "pending_room_facts_leads_idx" ON "pending_room_facts" USING btree ("server_name","priority" DESC NULLS LAST) WHERE "pending_room_facts"."leads_at" is null;--> statement-breakpoint
CREATE INDEX "pending_room_facts_measure_idx" ON "pending_room_facts" USING btree ("server_name","priority" DESC NULLS LAST) WHERE "pending_room_facts"."leads_at" is not null;