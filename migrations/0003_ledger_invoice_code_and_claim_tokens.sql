ALTER TABLE "idempotency_keys" ADD COLUMN "claim_token" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "ledger_entries" ADD COLUMN "invoice_code" text DEFAULT '' NOT NULL;