ALTER TABLE "pledges" ADD COLUMN "released_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "telemetry_events" ADD COLUMN "needs_check" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "telemetry_events" ADD COLUMN "checked_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "telemetry_events_unchecked_idx" ON "telemetry_events" USING btree ("received_at") WHERE needs_check and checked_at is null;