CREATE TABLE "program_rule_settings" (
	"program_id" uuid NOT NULL,
	"rule_id" text NOT NULL,
	"enabled" boolean NOT NULL,
	"params" jsonb NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"updated_by" text NOT NULL,
	CONSTRAINT "program_rule_settings_program_id_rule_id_pk" PRIMARY KEY("program_id","rule_id")
);
--> statement-breakpoint
CREATE TABLE "warning_policies" (
	"program_id" uuid PRIMARY KEY NOT NULL,
	"freeze_line_on_red" boolean NOT NULL,
	"block_release_on_red" boolean NOT NULL,
	"maker_checker_on_red" boolean NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"updated_by" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "warning_run_chunks" (
	"run_id" uuid NOT NULL,
	"chunk_index" integer NOT NULL,
	"kind" text NOT NULL,
	"subjects" integer NOT NULL,
	"signals" integer NOT NULL,
	"finished_at" timestamp with time zone NOT NULL,
	CONSTRAINT "warning_run_chunks_run_id_chunk_index_pk" PRIMARY KEY("run_id","chunk_index")
);
--> statement-breakpoint
ALTER TABLE "signals" ADD COLUMN "business_date" text;--> statement-breakpoint
ALTER TABLE "signals" ADD COLUMN "program_id" uuid;--> statement-breakpoint
ALTER TABLE "signals" ADD COLUMN "credit_line_id" uuid;--> statement-breakpoint
ALTER TABLE "signals" ADD COLUMN "linked_signal_id" uuid;--> statement-breakpoint
ALTER TABLE "signals" ADD COLUMN "assignee_user_id" uuid;--> statement-breakpoint
ALTER TABLE "signals" ADD COLUMN "proposed_resolution" text;--> statement-breakpoint
ALTER TABLE "signals" ADD COLUMN "proposed_by" text;--> statement-breakpoint
ALTER TABLE "signals" ADD COLUMN "proposed_note" text;--> statement-breakpoint
ALTER TABLE "signals" ADD COLUMN "proposed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "signals" ADD COLUMN "maker_checker" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "signals" ADD COLUMN "actions" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "telemetry_events" ADD COLUMN "unauthorized_pledge_id" uuid;--> statement-breakpoint
ALTER TABLE "warning_runs" ADD COLUMN "settings" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "warning_runs" ADD COLUMN "chunks_failed" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "program_rule_settings" ADD CONSTRAINT "program_rule_settings_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "warning_policies" ADD CONSTRAINT "warning_policies_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "signals_open_line_idx" ON "signals" USING btree ("credit_line_id") WHERE status in ('open', 'acknowledged') and severity = 'red';--> statement-breakpoint
CREATE INDEX "signals_open_subject_idx" ON "signals" USING btree ("subject_type","subject_id") WHERE status in ('open', 'acknowledged');--> statement-breakpoint
CREATE INDEX "telemetry_events_device_time_idx" ON "telemetry_events" USING btree ("device_id","received_at");--> statement-breakpoint
CREATE INDEX "telemetry_events_unauthorized_idx" ON "telemetry_events" USING btree ("received_at") WHERE unauthorized_pledge_id is not null;