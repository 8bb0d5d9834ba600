import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgEnum, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { creditLines, programs } from './financing';
import { organizations } from './parties';

const ts = (name: string) => timestamp(name, { withTimezone: true });
const qty = (name: string) => bigint(name, { mode: 'number' });

/** A supervised warehouse (监管仓) run by a warehouse organization. */
export const warehouses = pgTable('warehouses', {
  id: uuid('id').primaryKey().defaultRandom(),
  warehouseOrganizationId: uuid('warehouse_organization_id').notNull().references(() => organizations.id),
  name: text('name').notNull(),
  address: text('address').notNull(),
  zones: jsonb('zones').$type<string[]>().notNull(),
  createdAt: ts('created_at').notNull(),
});

/** A stock-keeping unit; quantities are integers in its base unit (kg, piece…). */
export const skus = pgTable('skus', {
  id: uuid('id').primaryKey().defaultRandom(),
  code: text('code').notNull().unique(),
  name: text('name').notNull(),
  unit: text('unit').notNull(),
  /** Nominal weight of one base unit, grams: what a scale should read. */
  nominalUnitWeightGrams: integer('nominal_unit_weight_grams').notNull(),
  /** Allowed difference between sensed and booked (weight or count), basis points. */
  toleranceBp: integer('tolerance_bp').notNull(),
  haircutBp: integer('haircut_bp').notNull(),
  createdAt: ts('created_at').notNull(),
});

/** Prices per base unit in fen, each with an effective time and source; the latest effective one counts. */
export const skuPrices = pgTable(
  'sku_prices',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    skuId: uuid('sku_id').notNull().references(() => skus.id),
    priceFen: bigint('price_fen', { mode: 'bigint' }).notNull(),
    effectiveAt: ts('effective_at').notNull(),
    source: text('source').notNull(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [index('sku_prices_sku_idx').on(t.skuId, t.effectiveAt)],
);

/** Per program: haircut override and the coverage lines (basis points of outstanding). */
export const collateralTerms = pgTable('collateral_terms', {
  programId: uuid('program_id').primaryKey().references(() => programs.id),
  haircutBp: integer('haircut_bp'),
  warningLineBp: integer('warning_line_bp').notNull(),
  liquidationLineBp: integer('liquidation_line_bp').notNull(),
  priceMaxAgeHours: integer('price_max_age_hours').notNull(),
  updatedAt: ts('updated_at').notNull(),
});

export const pledgeStatus = pgEnum('pledge_status', ['active', 'released']);

/** 动产质押: a supplier pledges lots in one warehouse to a bank against a credit line. */
export const pledges = pgTable(
  'pledges',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    reference: text('reference').notNull().unique(),
    bankOrganizationId: uuid('bank_organization_id').notNull().references(() => organizations.id),
    supplierOrganizationId: uuid('supplier_organization_id').notNull().references(() => organizations.id),
    creditLineId: uuid('credit_line_id').notNull().references(() => creditLines.id),
    warehouseId: uuid('warehouse_id').notNull().references(() => warehouses.id),
    status: pledgeStatus('status').notNull().default('active'),
    createdAt: ts('created_at').notNull(),
    /** After release, the pledge's history stops here: later movements of the lot belong to whoever holds it next. */
    releasedAt: ts('released_at'),
  },
  (t) => [index('pledges_line_idx').on(t.creditLineId), index('pledges_warehouse_idx').on(t.warehouseId)],
);

/** The pledged lots; a lot code (and each tag) is pledged once at a time, platform-wide (权属不清). */
export const pledgeLots = pgTable(
  'pledge_lots',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    pledgeId: uuid('pledge_id').notNull().references(() => pledges.id),
    warehouseId: uuid('warehouse_id').notNull().references(() => warehouses.id),
    lotCode: text('lot_code').notNull(),
    skuId: uuid('sku_id').notNull().references(() => skus.id),
    zone: text('zone').notNull(),
    tagIds: jsonb('tag_ids').$type<string[]>().notNull(),
    pledgedQuantity: qty('pledged_quantity').notNull(),
    active: boolean('active').notNull().default(true),
  },
  (t) => [uniqueIndex('pledge_lots_active_lot_uq').on(t.warehouseId, t.lotCode).where(sql`active`), index('pledge_lots_pledge_idx').on(t.pledgeId)],
);

export const pledgeTags = pgTable(
  'pledge_tags',
  {
    tagId: text('tag_id').notNull(),
    pledgeLotId: uuid('pledge_lot_id').notNull().references(() => pledgeLots.id),
    active: boolean('active').notNull().default(true),
  },
  (t) => [uniqueIndex('pledge_tags_active_uq').on(t.tagId).where(sql`active`)],
);

export const releaseOrderStatus = pgEnum('release_order_status', ['open', 'used', 'expired', 'cancelled']);

/** 放货指令: the bank lets a quantity of a pledged lot leave within a window. */
export const releaseOrders = pgTable(
  'release_orders',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    pledgeId: uuid('pledge_id').notNull().references(() => pledges.id),
    lotCode: text('lot_code').notNull(),
    quantity: qty('quantity').notNull(),
    releasedQuantity: qty('released_quantity').notNull().default(0),
    validFrom: ts('valid_from').notNull(),
    validTo: ts('valid_to').notNull(),
    status: releaseOrderStatus('status').notNull().default('open'),
    createdAt: ts('created_at').notNull(),
    createdBy: text('created_by').notNull(),
  },
  (t) => [index('release_orders_lot_idx').on(t.lotCode, t.status)],
);

export const deviceKind = pgEnum('device_kind', ['rfid_gate', 'scale', 'weighbridge', 'counter_camera', 'environment_sensor', 'gateway']);

/** A warehouse device; its HMAC secret is stored encrypted (AES-256-GCM, DEVICE_SECRET_KEY), never in clear. */
export const devices = pgTable(
  'devices',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    warehouseId: uuid('warehouse_id').notNull().references(() => warehouses.id),
    warehouseOrganizationId: uuid('warehouse_organization_id').notNull().references(() => organizations.id),
    kind: deviceKind('kind').notNull(),
    name: text('name').notNull(),
    secretCiphertext: text('secret_ciphertext').notNull(),
    /** scrypt hash of the broker password (the embedded broker checks it). */
    brokerPasswordHash: text('broker_password_hash').notNull(),
    status: text('status', { enum: ['active', 'disabled'] }).notNull().default('active'),
    heartbeatIntervalSeconds: integer('heartbeat_interval_seconds').notNull(),
    lastSeenAt: ts('last_seen_at'),
    lastSeq: bigint('last_seq', { mode: 'number' }),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [index('devices_warehouse_idx').on(t.warehouseId)],
);

/** Every accepted device message, once: (device, seq) makes ingestion idempotent. */
export const telemetryEvents = pgTable(
  'telemetry_events',
  {
    deviceId: uuid('device_id').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    kind: text('kind').notNull(),
    warehouseId: uuid('warehouse_id').notNull(),
    deviceTs: ts('device_ts').notNull(),
    receivedAt: ts('received_at').notNull(),
    bodyHash: text('body_hash').notNull(),
    body: jsonb('body').notNull(),
    /** Movements only: the position arithmetic reads these columns. */
    lotCode: text('lot_code'),
    skuCode: text('sku_code'),
    signedQuantity: bigint('signed_quantity', { mode: 'number' }),
    /** Transactional outbox for the real-time rules: set at insert, cleared (checked_at) by the check itself. */
    needsCheck: boolean('needs_check').notNull().default(false),
    checkedAt: ts('checked_at'),
    /** Set by the real-time check: an outbound movement of pledged goods no release order covered (非法转移); the T+1 run counts these. */
    unauthorizedPledgeId: uuid('unauthorized_pledge_id'),
  },
  (t) => [
    primaryKey({ columns: [t.deviceId, t.seq] }),
    index('telemetry_events_lot_idx').on(t.warehouseId, t.lotCode),
    index('telemetry_events_unchecked_idx').on(t.receivedAt).where(sql`needs_check and checked_at is null`),
    // T+1 reads a device's last message before the end of day T, and T's unauthorized outbounds.
    index('telemetry_events_device_time_idx').on(t.deviceId, t.receivedAt),
    index('telemetry_events_unauthorized_idx').on(t.receivedAt).where(sql`unauthorized_pledge_id is not null`),
  ],
);

/** Messages refused by ingestion, with why; never move a position. */
export const quarantine = pgTable(
  'quarantine',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    topic: text('topic').notNull(),
    payload: text('payload').notNull(),
    reason: text('reason').notNull(),
    detail: text('detail'),
    deviceId: uuid('device_id'),
    warehouseId: uuid('warehouse_id'),
    receivedAt: ts('received_at').notNull(),
  },
  (t) => [index('quarantine_warehouse_idx').on(t.warehouseId, t.receivedAt)],
);

/** Risk signals (预警信号); the warnings issue extends this table. One open signal per rule and subject. */
export const signals = pgTable(
  'signals',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    rule: text('rule').notNull(),
    subjectType: text('subject_type').notNull(),
    subjectId: text('subject_id').notNull(),
    bankOrganizationId: uuid('bank_organization_id'),
    severity: text('severity', { enum: ['red', 'orange', 'yellow'] }).notNull(),
    status: text('status', { enum: ['open', 'acknowledged', 'resolved', 'false_positive'] }).notNull().default('open'),
    /** Who moved it last, when, and why (acknowledge, resolve, false positive). */
    statusNote: text('status_note'),
    statusChangedBy: text('status_changed_by'),
    statusChangedAt: ts('status_changed_at'),
    evidence: jsonb('evidence').notNull(),
    occurrences: integer('occurrences').notNull().default(1),
    firstSeenAt: ts('first_seen_at').notNull(),
    lastSeenAt: ts('last_seen_at').notNull(),
    /** Business day the signal speaks of (T for the nightly run, the day it happened for real-time rules). */
    businessDate: text('business_date'),
    /** The program and credit line it concerns, when there is one: automatic actions and maker-checker read them. */
    programId: uuid('program_id'),
    creditLineId: uuid('credit_line_id'),
    /** 1+N: a supplier's signal raised because of its core enterprise's signal. */
    linkedSignalId: uuid('linked_signal_id'),
    assigneeUserId: uuid('assignee_user_id'),
    /** Maker-checker on red: the first officer proposes, a second one confirms. */
    proposedResolution: text('proposed_resolution', { enum: ['resolved', 'false_positive'] }),
    proposedBy: text('proposed_by'),
    proposedNote: text('proposed_note'),
    proposedAt: ts('proposed_at'),
    /** Set once the signal is red under a program that asks for maker-checker; sticky, so switching the policy off later does not undo it. */
    makerChecker: boolean('maker_checker').notNull().default(false),
    /** What the platform did by itself (e.g. froze the line), with when. */
    actions: jsonb('actions').$type<{ action: string; at: string; detail?: unknown }[]>().notNull().default([]),
  },
  // Per bank: two banks watching one enterprise each get their own signal.
  (t) => [
    uniqueIndex('signals_open_uq').on(t.rule, t.subjectType, t.subjectId, t.bankOrganizationId).where(sql`status in ('open', 'acknowledged')`),
    index('signals_bank_idx').on(t.bankOrganizationId, t.lastSeenAt),
    index('signals_open_line_idx').on(t.creditLineId).where(sql`status in ('open', 'acknowledged') and severity = 'red'`),
    index('signals_open_subject_idx').on(t.subjectType, t.subjectId).where(sql`status in ('open', 'acknowledged')`),
  ],
);

/** A bank's HTTPS endpoint for signals (Standard Webhooks); the signing secret is encrypted like device secrets. */
export const webhookEndpoints = pgTable('webhook_endpoints', {
  id: uuid('id').primaryKey().defaultRandom(),
  bankOrganizationId: uuid('bank_organization_id').notNull().references(() => organizations.id),
  url: text('url').notNull(),
  secretCiphertext: text('secret_ciphertext').notNull(),
  active: boolean('active').notNull().default(true),
  createdAt: ts('created_at').notNull(),
});

/** One message to one endpoint; written with the signal it announces (an outbox), delivered by a job. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    endpointId: uuid('endpoint_id').notNull().references(() => webhookEndpoints.id),
    eventType: text('event_type').notNull(),
    payload: jsonb('payload').notNull(),
    status: text('status', { enum: ['pending', 'delivered', 'failed'] }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    createdAt: ts('created_at').notNull(),
    deliveredAt: ts('delivered_at'),
  },
  (t) => [index('webhook_deliveries_pending_idx').on(t.createdAt).where(sql`status = 'pending'`), index('webhook_deliveries_endpoint_idx').on(t.endpointId, t.createdAt)],
);

/** Every attempt, with what the endpoint answered: banks and operators can see why a delivery failed. */
export const webhookAttempts = pgTable(
  'webhook_attempts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    deliveryId: uuid('delivery_id').notNull().references(() => webhookDeliveries.id),
    attempt: integer('attempt').notNull(),
    at: ts('at').notNull(),
    statusCode: integer('status_code'),
    error: text('error'),
    durationMs: integer('duration_ms').notNull(),
  },
  (t) => [index('webhook_attempts_delivery_idx').on(t.deliveryId, t.attempt)],
);

/** One T+1 run for a business day: progress while it runs, figures when done. A day may be re-run. */
export const warningRuns = pgTable('warning_runs', {
  id: uuid('id').primaryKey().defaultRandom(),
  businessDate: text('business_date').notNull(),
  trigger: text('trigger', { enum: ['schedule', 'api', 'cli'] }).notNull(),
  status: text('status', { enum: ['running', 'succeeded', 'failed'] }).notNull(),
  /** Program rule settings as they stood when the run started: a change applies from the next run. */
  settings: jsonb('settings').notNull().default({}),
  chunksFailed: integer('chunks_failed').notNull().default(0),
  chunksTotal: integer('chunks_total').notNull().default(0),
  chunksDone: integer('chunks_done').notNull().default(0),
  subjectsEvaluated: integer('subjects_evaluated').notNull().default(0),
  signalsRaised: integer('signals_raised').notNull().default(0),
  failures: integer('failures').notNull().default(0),
  startedAt: ts('started_at').notNull(),
  finishedAt: ts('finished_at'),
});
