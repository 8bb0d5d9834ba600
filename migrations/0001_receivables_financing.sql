CREATE TYPE "public"."invoice_confirmation_status" AS ENUM('unconfirmed', 'confirmed', 'mismatch', 'rejected');--> statement-breakpoint
CREATE TYPE "public"."credit_line_status" AS ENUM('active', 'frozen', 'expired', 'closed');--> statement-breakpoint
CREATE TYPE "public"."day_count" AS ENUM('ACT/360', 'ACT/365');--> statement-breakpoint
CREATE TYPE "public"."financing_status" AS ENUM('quoted', 'submitted', 'approved', 'rejected', 'disbursed', 'overdue', 'repaid', 'expired');--> statement-breakpoint
CREATE TYPE "public"."credit_line_journal_kind" AS ENUM('drawdown', 'repayment', 'reversal');--> statement-breakpoint
CREATE TYPE "public"."ledger_entry_status" AS ENUM('open', 'partially_paid', 'paid', 'disputed', 'cancelled');--> statement-breakpoint
CREATE TYPE "public"."program_status" AS ENUM('active', 'suspended', 'closed');--> statement-breakpoint
CREATE TABLE "credit_line_journal" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "credit_line_journal_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"credit_line_id" uuid NOT NULL,
	"kind" "credit_line_journal_kind" NOT NULL,
	"amount_fen" bigint NOT NULL,
	"financing_request_id" uuid,
	"reverses_entry_id" uuid,
	"reference" text,
	"value_date" date NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"created_by" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "credit_lines" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"program_id" uuid NOT NULL,
	"bank_organization_id" uuid NOT NULL,
	"supplier_organization_id" uuid NOT NULL,
	"limit_fen" bigint NOT NULL,
	"outstanding_fen" bigint DEFAULT 0 NOT NULL,
	"drawn_fen" bigint DEFAULT 0 NOT NULL,
	"expires_on" date NOT NULL,
	"revolving" boolean NOT NULL,
	"status" "credit_line_status" DEFAULT 'active' NOT NULL,
	"frozen_reason" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "credit_lines_outstanding_within_limit" CHECK ("credit_lines"."outstanding_fen" >= 0 and "credit_lines"."outstanding_fen" <= "credit_lines"."limit_fen")
);
--> statement-breakpoint
CREATE TABLE "financed_invoices" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"financing_request_id" uuid NOT NULL,
	"invoice_id" uuid NOT NULL,
	"fingerprint" text NOT NULL,
	"outstanding_face_fen" bigint NOT NULL,
	"advance_fen" bigint NOT NULL,
	"repaid_from_ledger_fen" bigint DEFAULT 0 NOT NULL,
	"active" boolean NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "financing_events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"type" text NOT NULL,
	"bank_organization_id" uuid,
	"supplier_organization_id" uuid,
	"subject_type" text NOT NULL,
	"subject_id" text NOT NULL,
	"data" jsonb NOT NULL,
	"dedupe_key" text NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "financing_requests" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"program_id" uuid NOT NULL,
	"credit_line_id" uuid NOT NULL,
	"bank_organization_id" uuid NOT NULL,
	"supplier_organization_id" uuid NOT NULL,
	"status" "financing_status" NOT NULL,
	"face_value_fen" bigint NOT NULL,
	"principal_fen" bigint NOT NULL,
	"interest_fen" bigint NOT NULL,
	"annual_rate_bp" integer NOT NULL,
	"advance_rate_bp" integer NOT NULL,
	"day_count" "day_count" NOT NULL,
	"tenor_days" integer NOT NULL,
	"quoted_on" date NOT NULL,
	"maturity_date" date NOT NULL,
	"quote_expires_at" timestamp with time zone NOT NULL,
	"breakdown" jsonb NOT NULL,
	"repaid_fen" bigint DEFAULT 0 NOT NULL,
	"decision_reason" text,
	"decided_by" text,
	"value_date" date,
	"disbursement_reference" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "invoices" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"supplier_organization_id" uuid NOT NULL,
	"buyer_organization_id" uuid NOT NULL,
	"invoice_code" text NOT NULL,
	"invoice_number" text NOT NULL,
	"issue_date" date NOT NULL,
	"due_date" date NOT NULL,
	"amount_fen" bigint NOT NULL,
	"currency" text NOT NULL,
	"fingerprint" text NOT NULL,
	"confirmation_status" "invoice_confirmation_status" DEFAULT 'unconfirmed' NOT NULL,
	"confirmation_reason" text,
	"confirmed_via" text,
	"ledger_entry_id" uuid,
	"credit_note_fen" bigint DEFAULT 0 NOT NULL,
	"paid_fen" bigint DEFAULT 0 NOT NULL,
	"ledger_status" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ledger_entries" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"core_enterprise_organization_id" uuid NOT NULL,
	"external_id" text NOT NULL,
	"version" integer NOT NULL,
	"current" boolean NOT NULL,
	"supplier_credit_code" text NOT NULL,
	"invoice_number" text NOT NULL,
	"amount_fen" bigint NOT NULL,
	"due_date" date NOT NULL,
	"status" "ledger_entry_status" NOT NULL,
	"credit_notes" jsonb NOT NULL,
	"payments" jsonb NOT NULL,
	"credit_note_fen" bigint NOT NULL,
	"paid_fen" bigint NOT NULL,
	"content_hash" text NOT NULL,
	"source" text NOT NULL,
	"received_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "programs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"bank_organization_id" uuid NOT NULL,
	"core_enterprise_organization_id" uuid NOT NULL,
	"name" text NOT NULL,
	"limit_fen" bigint NOT NULL,
	"outstanding_fen" bigint DEFAULT 0 NOT NULL,
	"advance_rate_bp" integer NOT NULL,
	"max_tenor_days" integer NOT NULL,
	"annual_rate_bp" integer NOT NULL,
	"day_count" "day_count" NOT NULL,
	"grace_days" integer NOT NULL,
	"auto_approval_threshold_fen" bigint NOT NULL,
	"status" "program_status" DEFAULT 'active' NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "programs_outstanding_within_limit" CHECK ("programs"."outstanding_fen" >= 0 and "programs"."outstanding_fen" <= "programs"."limit_fen")
);
--> statement-breakpoint
DROP INDEX "audit_events_organization_idx";--> statement-breakpoint
ALTER TABLE "audit_events" ADD COLUMN "seq" bigint NOT NULL GENERATED ALWAYS AS IDENTITY (sequence name "audit_events_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1);--> statement-breakpoint
ALTER TABLE "credit_line_journal" ADD CONSTRAINT "credit_line_journal_credit_line_id_credit_lines_id_fk" FOREIGN KEY ("credit_line_id") REFERENCES "public"."credit_lines"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "credit_lines" ADD CONSTRAINT "credit_lines_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "credit_lines" ADD CONSTRAINT "credit_lines_bank_organization_id_organizations_id_fk" FOREIGN KEY ("bank_organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "credit_lines" ADD CONSTRAINT "credit_lines_supplier_organization_id_organizations_id_fk" FOREIGN KEY ("supplier_organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "financed_invoices" ADD CONSTRAINT "financed_invoices_financing_request_id_financing_requests_id_fk" FOREIGN KEY ("financing_request_id") REFERENCES "public"."financing_requests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "financed_invoices" ADD CONSTRAINT "financed_invoices_invoice_id_invoices_id_fk" FOREIGN KEY ("invoice_id") REFERENCES "public"."invoices"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "financing_requests" ADD CONSTRAINT "financing_requests_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "financing_requests" ADD CONSTRAINT "financing_requests_credit_line_id_credit_lines_id_fk" FOREIGN KEY ("credit_line_id") REFERENCES "public"."credit_lines"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "financing_requests" ADD CONSTRAINT "financing_requests_bank_organization_id_organizations_id_fk" FOREIGN KEY ("bank_organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "financing_requests" ADD CONSTRAINT "financing_requests_supplier_organization_id_organizations_id_fk" FOREIGN KEY ("supplier_organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "invoices" ADD CONSTRAINT "invoices_supplier_organization_id_organizations_id_fk" FOREIGN KEY ("supplier_organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "invoices" ADD CONSTRAINT "invoices_buyer_organization_id_organizations_id_fk" FOREIGN KEY ("buyer_organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_core_enterprise_organization_id_organizations_id_fk" FOREIGN KEY ("core_enterprise_organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "programs" ADD CONSTRAINT "programs_bank_organization_id_organizations_id_fk" FOREIGN KEY ("bank_organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "programs" ADD CONSTRAINT "programs_core_enterprise_organization_id_organizations_id_fk" FOREIGN KEY ("core_enterprise_organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "credit_line_journal_line_idx" ON "credit_line_journal" USING btree ("credit_line_id","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "credit_line_journal_reversal_uq" ON "credit_line_journal" USING btree ("reverses_entry_id");--> statement-breakpoint
CREATE UNIQUE INDEX "credit_lines_program_supplier_uq" ON "credit_lines" USING btree ("program_id","supplier_organization_id");--> statement-breakpoint
CREATE INDEX "credit_lines_supplier_idx" ON "credit_lines" USING btree ("supplier_organization_id");--> statement-breakpoint
CREATE UNIQUE INDEX "financed_invoices_active_fingerprint_uq" ON "financed_invoices" USING btree ("fingerprint") WHERE active;--> statement-breakpoint
CREATE UNIQUE INDEX "financed_invoices_request_invoice_uq" ON "financed_invoices" USING btree ("financing_request_id","invoice_id");--> statement-breakpoint
CREATE INDEX "financed_invoices_invoice_idx" ON "financed_invoices" USING btree ("invoice_id");--> statement-breakpoint
CREATE UNIQUE INDEX "financing_events_dedupe_uq" ON "financing_events" USING btree ("dedupe_key");--> statement-breakpoint
CREATE INDEX "financing_events_type_idx" ON "financing_events" USING btree ("type","occurred_at");--> statement-breakpoint
CREATE INDEX "financing_requests_line_idx" ON "financing_requests" USING btree ("credit_line_id","status");--> statement-breakpoint
CREATE INDEX "financing_requests_supplier_idx" ON "financing_requests" USING btree ("supplier_organization_id");--> statement-breakpoint
CREATE INDEX "financing_requests_bank_idx" ON "financing_requests" USING btree ("bank_organization_id");--> statement-breakpoint
CREATE UNIQUE INDEX "invoices_supplier_code_number_uq" ON "invoices" USING btree ("supplier_organization_id","invoice_code","invoice_number");--> statement-breakpoint
CREATE INDEX "invoices_buyer_idx" ON "invoices" USING btree ("buyer_organization_id","supplier_organization_id","invoice_number");--> statement-breakpoint
CREATE INDEX "invoices_fingerprint_idx" ON "invoices" USING btree ("fingerprint");--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_entries_version_uq" ON "ledger_entries" USING btree ("core_enterprise_organization_id","external_id","version");--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_entries_current_uq" ON "ledger_entries" USING btree ("core_enterprise_organization_id","external_id") WHERE current;--> statement-breakpoint
CREATE INDEX "ledger_entries_match_idx" ON "ledger_entries" USING btree ("core_enterprise_organization_id","supplier_credit_code","invoice_number");--> statement-breakpoint
CREATE INDEX "programs_bank_idx" ON "programs" USING btree ("bank_organization_id");--> statement-breakpoint
CREATE INDEX "programs_core_idx" ON "programs" USING btree ("core_enterprise_organization_id");--> statement-breakpoint
CREATE INDEX "audit_events_organization_idx" ON "audit_events" USING btree ("organization_id","seq");