import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { organizations } from './parties';

const ts = (name: string) => timestamp(name, { withTimezone: true });

/** Enterprises a bank watches beyond its own exposures (guarantors, shareholders…). */
export const registryWatchAdditions = pgTable(
  'registry_watch_additions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    bankOrganizationId: uuid('bank_organization_id').notNull().references(() => organizations.id),
    creditCode: text('credit_code').notNull(),
    note: text('note').notNull(),
    createdAt: ts('created_at').notNull(),
    createdBy: text('created_by').notNull(),
    removedAt: ts('removed_at'),
  },
  (t) => [uniqueIndex('registry_watch_additions_active_uq').on(t.bankOrganizationId, t.creditCode).where(sql`removed_at is null`)],
);

/** Versioned enterprise profiles: a new version only when the content (hash) changes. */
export const enterpriseSnapshots = pgTable(
  'enterprise_snapshots',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    creditCode: text('credit_code').notNull(),
    version: integer('version').notNull(),
    content: jsonb('content').notNull(),
    contentHash: text('content_hash').notNull(),
    provider: text('provider').notNull(),
    source: text('source', { enum: ['pull', 'push'] }).notNull(),
    fetchedAt: ts('fetched_at').notNull(),
  },
  (t) => [uniqueIndex('enterprise_snapshots_version_uq').on(t.creditCode, t.version)],
);

/** Typed differences between consecutive snapshots (the T+1 warnings turn them into signals). */
export const registryChangeEvents = pgTable(
  'registry_change_events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    creditCode: text('credit_code').notNull(),
    type: text('type').notNull(),
    severity: text('severity', { enum: ['red', 'orange', 'yellow'] }).notNull(),
    itemKey: text('item_key').notNull(),
    before: jsonb('before'),
    after: jsonb('after'),
    detail: jsonb('detail'),
    fromVersion: integer('from_version').notNull(),
    toVersion: integer('to_version').notNull(),
    detectedAt: ts('detected_at').notNull(),
  },
  (t) => [
    uniqueIndex('registry_change_events_once_uq').on(t.creditCode, t.fromVersion, t.toVersion, t.type, t.itemKey),
    index('registry_change_events_detected_idx').on(t.detectedAt),
    index('registry_change_events_code_idx').on(t.creditCode, t.detectedAt),
  ],
);

/** Per enterprise and provider: when data last came in, and the last failure (stale data is a condition). */
export const registryFetchStatus = pgTable(
  'registry_fetch_status',
  {
    provider: text('provider').notNull(),
    creditCode: text('credit_code').notNull(),
    lastAttemptAt: ts('last_attempt_at').notNull(),
    lastSuccessAt: ts('last_success_at'),
    lastError: text('last_error'),
    consecutiveFailures: integer('consecutive_failures').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.provider, t.creditCode] })],
);

export const registryPullRuns = pgTable('registry_pull_runs', {
  id: uuid('id').primaryKey().defaultRandom(),
  provider: text('provider').notNull(),
  trigger: text('trigger', { enum: ['schedule', 'api'] }).notNull(),
  status: text('status', { enum: ['running', 'succeeded', 'partial'] }).notNull(),
  total: integer('total').notNull(),
  done: integer('done').notNull().default(0),
  failed: integer('failed').notNull().default(0),
  startedAt: ts('started_at').notNull(),
  finishedAt: ts('finished_at'),
});

/** Provider pushes, idempotent on the provider's event id. */
export const registryWebhookEvents = pgTable(
  'registry_webhook_events',
  {
    provider: text('provider').notNull(),
    eventId: text('event_id').notNull(),
    creditCode: text('credit_code').notNull(),
    outcome: text('outcome').notNull(),
    receivedAt: ts('received_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.provider, t.eventId] })],
);
