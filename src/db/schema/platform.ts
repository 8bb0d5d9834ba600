import { bigint, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/** Every verb that changes state writes one row here in its own transaction. */
export const auditEvents = pgTable(
  'audit_events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** Order of writing: timestamps tie within a millisecond (or under a fixed test clock). */
    seq: bigint('seq', { mode: 'number' }).generatedAlwaysAsIdentity().notNull(),
    /** The tenant the change belongs to (the subject's organization). */
    organizationId: uuid('organization_id'),
    actorType: text('actor_type').notNull(),
    actorUserId: uuid('actor_user_id'),
    actorOrganizationId: uuid('actor_organization_id'),
    action: text('action').notNull(),
    subjectType: text('subject_type').notNull(),
    subjectId: text('subject_id').notNull(),
    data: jsonb('data').notNull(),
    requestId: text('request_id'),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('audit_events_subject_idx').on(t.subjectType, t.subjectId), index('audit_events_organization_idx').on(t.organizationId, t.seq)],
);

/** Stored responses for Idempotency-Key; scoped per organization so tenants never share keys. */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    organizationId: uuid('organization_id').notNull(),
    key: text('key').notNull(),
    method: text('method').notNull(),
    path: text('path').notNull(),
    requestHash: text('request_hash').notNull(),
    state: text('state', { enum: ['running', 'completed'] }).notNull(),
    /** Which attempt holds a running key: only it may complete or release it. */
    claimToken: text('claim_token').notNull().default(''),
    responseStatus: integer('response_status'),
    responseContentType: text('response_content_type'),
    responseBody: text('response_body'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    /** A running claim older than this is considered abandoned (its process died). */
    lockedUntil: timestamp('locked_until', { withTimezone: true }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.organizationId, t.key] }), index('idempotency_keys_expires_idx').on(t.expiresAt)],
);
