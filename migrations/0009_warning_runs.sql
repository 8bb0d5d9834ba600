CREATE TABLE "warning_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"business_date" text NOT NULL,
	"trigger" text NOT NULL,
	"status" text NOT NULL,
	"chunks_total" integer DEFAULT 0 NOT NULL,
	"chunks_done" integer DEFAULT 0 NOT NULL,
	"subjects_evaluated" integer DEFAULT 0 NOT NULL,
	"signals_raised" integer DEFAULT 0 NOT NULL,
	"failures" integer DEFAULT 0 NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
DROP INDEX "signals_open_uq";--> statement-breakpoint
CREATE UNIQUE INDEX "signals_open_uq" ON "signals" USING btree ("rule","subject_type","subject_id","bank_organization_id") WHERE status in ('open', 'acknowledged');