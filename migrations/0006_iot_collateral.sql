CREATE TYPE "public"."device_kind" AS ENUM('rfid_gate', 'scale', 'weighbridge', 'counter_camera', 'environment_sensor', 'gateway');--> statement-breakpoint
CREATE TYPE "public"."pledge_status" AS ENUM('active', 'released');--> statement-breakpoint
CREATE TYPE "public"."release_order_status" AS ENUM('open', 'used', 'expired', 'cancelled');--> statement-breakpoint
CREATE TABLE "collateral_terms" (
	"program_id" uuid PRIMARY KEY NOT NULL,
	"haircut_bp" integer,
	"warning_line_bp" integer NOT NULL,
	"liquidation_line_bp" integer NOT NULL,
	"price_max_age_hours" integer NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "devices" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"warehouse_id" uuid NOT NULL,
	"warehouse_organization_id" uuid NOT NULL,
	"kind" "device_kind" NOT NULL,
	"name" text NOT NULL,
	"secret_ciphertext" text NOT NULL,
	"broker_password_hash" text NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"heartbeat_interval_seconds" integer NOT NULL,
	"last_seen_at" timestamp with time zone,
	"last_seq" bigint,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "pledge_lots" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"pledge_id" uuid NOT NULL,
	"warehouse_id" uuid NOT NULL,
	"lot_code" text NOT NULL,
	"sku_id" uuid NOT NULL,
	"zone" text NOT NULL,
	"tag_ids" jsonb NOT NULL,
	"pledged_quantity" bigint NOT NULL,
	"active" boolean DEFAULT true NOT NULL
);
--> statement-breakpoint
CREATE TABLE "pledge_tags" (
	"tag_id" text NOT NULL,
	"pledge_lot_id" uuid NOT NULL,
	"active" boolean DEFAULT true NOT NULL
);
--> statement-breakpoint
CREATE TABLE "pledges" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"reference" text NOT NULL,
	"bank_organization_id" uuid NOT NULL,
	"supplier_organization_id" uuid NOT NULL,
	"credit_line_id" uuid NOT NULL,
	"warehouse_id" uuid NOT NULL,
	"status" "pledge_status" DEFAULT 'active' NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "pledges_reference_unique" UNIQUE("reference")
);
--> statement-breakpoint
CREATE TABLE "quarantine" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"topic" text NOT NULL,
	"payload" text NOT NULL,
	"reason" text NOT NULL,
	"detail" text,
	"device_id" uuid,
	"warehouse_id" uuid,
	"received_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "release_orders" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"pledge_id" uuid NOT NULL,
	"lot_code" text NOT NULL,
	"quantity" bigint NOT NULL,
	"released_quantity" bigint DEFAULT 0 NOT NULL,
	"valid_from" timestamp with time zone NOT NULL,
	"valid_to" timestamp with time zone NOT NULL,
	"status" "release_order_status" DEFAULT 'open' NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"created_by" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "signals" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"rule" text NOT NULL,
	"subject_type" text NOT NULL,
	"subject_id" text NOT NULL,
	"bank_organization_id" uuid,
	"severity" text NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"evidence" jsonb NOT NULL,
	"occurrences" integer DEFAULT 1 NOT NULL,
	"first_seen_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sku_prices" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"sku_id" uuid NOT NULL,
	"price_fen" bigint NOT NULL,
	"effective_at" timestamp with time zone NOT NULL,
	"source" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "skus" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"unit" text NOT NULL,
	"nominal_unit_weight_grams" integer NOT NULL,
	"tolerance_bp" integer NOT NULL,
	"haircut_bp" integer NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "skus_code_unique" UNIQUE("code")
);
--> statement-breakpoint
CREATE TABLE "telemetry_events" (
	"device_id" uuid NOT NULL,
	"seq" bigint NOT NULL,
	"kind" text NOT NULL,
	"warehouse_id" uuid NOT NULL,
	"device_ts" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"body_hash" text NOT NULL,
	"body" jsonb NOT NULL,
	"lot_code" text,
	"sku_code" text,
	"signed_quantity" bigint,
	CONSTRAINT "telemetry_events_device_id_seq_pk" PRIMARY KEY("device_id","seq")
);
--> statement-breakpoint
CREATE TABLE "warehouses" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"warehouse_organization_id" uuid NOT NULL,
	"name" text NOT NULL,
	"address" text NOT NULL,
	"zones" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "collateral_terms" ADD CONSTRAINT "collateral_terms_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "devices" ADD CONSTRAINT "devices_warehouse_id_warehouses_id_fk" FOREIGN KEY ("warehouse_id") REFERENCES "public"."warehouses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "devices" ADD CONSTRAINT "devices_warehouse_organization_id_organizations_id_fk" FOREIGN KEY ("warehouse_organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pledge_lots" ADD CONSTRAINT "pledge_lots_pledge_id_pledges_id_fk" FOREIGN KEY ("pledge_id") REFERENCES "public"."pledges"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pledge_lots" ADD CONSTRAINT "pledge_lots_warehouse_id_warehouses_id_fk" FOREIGN KEY ("warehouse_id") REFERENCES "public"."warehouses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pledge_lots" ADD CONSTRAINT "pledge_lots_sku_id_skus_id_fk" FOREIGN KEY ("sku_id") REFERENCES "public"."skus"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pledge_tags" ADD CONSTRAINT "pledge_tags_pledge_lot_id_pledge_lots_id_fk" FOREIGN KEY ("pledge_lot_id") REFERENCES "public"."pledge_lots"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pledges" ADD CONSTRAINT "pledges_bank_organization_id_organizations_id_fk" FOREIGN KEY ("bank_organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pledges" ADD CONSTRAINT "pledges_supplier_organization_id_organizations_id_fk" FOREIGN KEY ("supplier_organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pledges" ADD CONSTRAINT "pledges_credit_line_id_credit_lines_id_fk" FOREIGN KEY ("credit_line_id") REFERENCES "public"."credit_lines"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pledges" ADD CONSTRAINT "pledges_warehouse_id_warehouses_id_fk" FOREIGN KEY ("warehouse_id") REFERENCES "public"."warehouses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "release_orders" ADD CONSTRAINT "release_orders_pledge_id_pledges_id_fk" FOREIGN KEY ("pledge_id") REFERENCES "public"."pledges"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sku_prices" ADD CONSTRAINT "sku_prices_sku_id_skus_id_fk" FOREIGN KEY ("sku_id") REFERENCES "public"."skus"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "warehouses" ADD CONSTRAINT "warehouses_warehouse_organization_id_organizations_id_fk" FOREIGN KEY ("warehouse_organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "devices_warehouse_idx" ON "devices" USING btree ("warehouse_id");--> statement-breakpoint
CREATE UNIQUE INDEX "pledge_lots_active_lot_uq" ON "pledge_lots" USING btree ("warehouse_id","lot_code") WHERE active;--> statement-breakpoint
CREATE INDEX "pledge_lots_pledge_idx" ON "pledge_lots" USING btree ("pledge_id");--> statement-breakpoint
CREATE UNIQUE INDEX "pledge_tags_active_uq" ON "pledge_tags" USING btree ("tag_id") WHERE active;--> statement-breakpoint
CREATE INDEX "pledges_line_idx" ON "pledges" USING btree ("credit_line_id");--> statement-breakpoint
CREATE INDEX "pledges_warehouse_idx" ON "pledges" USING btree ("warehouse_id");--> statement-breakpoint
CREATE INDEX "quarantine_warehouse_idx" ON "quarantine" USING btree ("warehouse_id","received_at");--> statement-breakpoint
CREATE INDEX "release_orders_lot_idx" ON "release_orders" USING btree ("lot_code","status");--> statement-breakpoint
CREATE UNIQUE INDEX "signals_open_uq" ON "signals" USING btree ("rule","subject_type","subject_id") WHERE status in ('open', 'acknowledged');--> statement-breakpoint
CREATE INDEX "signals_bank_idx" ON "signals" USING btree ("bank_organization_id","last_seen_at");--> statement-breakpoint
CREATE INDEX "sku_prices_sku_idx" ON "sku_prices" USING btree ("sku_id","effective_at");--> statement-breakpoint
CREATE INDEX "telemetry_events_lot_idx" ON "telemetry_events" USING btree ("warehouse_id","lot_code");