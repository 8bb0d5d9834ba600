CREATE TABLE "enterprise_snapshots" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"credit_code" text NOT NULL,
	"version" integer NOT NULL,
	"content" jsonb NOT NULL,
	"content_hash" text NOT NULL,
	"provider" text NOT NULL,
	"source" text NOT NULL,
	"fetched_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "registry_change_events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"credit_code" text NOT NULL,
	"type" text NOT NULL,
	"severity" text NOT NULL,
	"item_key" text NOT NULL,
	"before" jsonb,
	"after" jsonb,
	"detail" jsonb,
	"from_version" integer NOT NULL,
	"to_version" integer NOT NULL,
	"detected_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "registry_fetch_status" (
	"provider" text NOT NULL,
	"credit_code" text NOT NULL,
	"last_attempt_at" timestamp with time zone NOT NULL,
	"last_success_at" timestamp with time zone,
	"last_error" text,
	"consecutive_failures" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "registry_fetch_status_provider_credit_code_pk" PRIMARY KEY("provider","credit_code")
);
--> statement-breakpoint
CREATE TABLE "registry_pull_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"provider" text NOT NULL,
	"trigger" text NOT NULL,
	"status" text NOT NULL,
	"total" integer NOT NULL,
	"done" integer DEFAULT 0 NOT NULL,
	"failed" integer DEFAULT 0 NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "registry_watch_additions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"bank_organization_id" uuid NOT NULL,
	"credit_code" text NOT NULL,
	"note" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"created_by" text NOT NULL,
	"removed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "registry_webhook_events" (
	"provider" text NOT NULL,
	"event_id" text NOT NULL,
	"credit_code" text NOT NULL,
	"outcome" text NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	CONSTRAINT "registry_webhook_events_provider_event_id_pk" PRIMARY KEY("provider","event_id")
);
--> statement-breakpoint
ALTER TABLE "registry_watch_additions" ADD CONSTRAINT "registry_watch_additions_bank_organization_id_organizations_id_fk" FOREIGN KEY ("bank_organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "enterprise_snapshots_version_uq" ON "enterprise_snapshots" USING btree ("credit_code","version");--> statement-breakpoint
CREATE UNIQUE INDEX "registry_change_events_once_uq" ON "registry_change_events" USING btree ("credit_code","from_version","to_version","type","item_key");--> statement-breakpoint
CREATE INDEX "registry_change_events_detected_idx" ON "registry_change_events" USING btree ("detected_at");--> statement-breakpoint
CREATE INDEX "registry_change_events_code_idx" ON "registry_change_events" USING btree ("credit_code","detected_at");--> statement-breakpoint
CREATE UNIQUE INDEX "registry_watch_additions_active_uq" ON "registry_watch_additions" USING btree ("bank_organization_id","credit_code") WHERE removed_at is null;