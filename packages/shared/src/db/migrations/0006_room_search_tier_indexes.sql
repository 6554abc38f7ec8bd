DROP INDEX "room_search_document_idx";--> statement-breakpoint
CREATE INDEX "room_search_document_t0_idx" ON "room_search" USING gin ("document") WHERE num_joined_members >= 1000;--> statement-breakpoint
CREATE INDEX "room_search_document_t1_idx" ON "room_search" USING gin ("document") WHERE num_joined_members >= 300 and num_joined_members < 1000;--> statement-breakpoint
CREATE INDEX "room_search_document_t2_idx" ON "room_search" USING gin ("document") WHERE num_joined_members >= 100 and num_joined_members < 300;--> statement-breakpoint
CREATE INDEX "room_search_document_t3_idx" ON "room_search" USING gin ("document") WHERE num_joined_members >= 30 and num_joined_members < 100;--> statement-breakpoint
CREATE INDEX "room_search_document_t4_idx" ON "room_search" USING gin ("document") WHERE num_joined_members >= 10 and num_joined_members < 30;--> statement-breakpoint
CREATE INDEX "room_search_document_t5_idx" ON "room_search" USING gin ("document") WHERE num_joined_members >= 3 and num_joined_members < 10;--> statement-breakpoint
CREATE INDEX "room_search_document_t6_idx" ON "room_search" USING gin ("document") WHERE num_joined_members < 3;