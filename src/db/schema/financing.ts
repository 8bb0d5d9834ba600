import { sql } from 'drizzle-orm';
import { bigint, boolean, check, date, index, integer, jsonb, pgEnum, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { organizations } from './parties';

const fen = (name: string) => bigint(name, { mode: 'bigint' });
const ts = (name: string) => timestamp(name, { withTimezone: true });

export const programStatus = pgEnum('program_status', ['active', 'suspended', 'closed']);
export const dayCount = pgEnum('day_count', ['ACT/360', 'ACT/365']);

/** A bank's supply-chain finance program (供应链金融项目) with one core enterprise: "1+N". */
export const programs = pgTable(
  'programs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    bankOrganizationId: uuid('bank_organization_id').notNull().references(() => organizations.id),
    coreEnterpriseOrganizationId: uuid('core_enterprise_organization_id').notNull().references(() => organizations.id),
    name: text('name').notNull(),
    limitFen: fen('limit_fen').notNull(),
    /** Σ outstanding principal of the program's lines, kept with the line journal under the program row lock. */
    outstandingFen: fen('outstanding_fen').notNull().default(sql`0`),
    advanceRateBp: integer('advance_rate_bp').notNull(),
    maxTenorDays: integer('max_tenor_days').notNull(),
    annualRateBp: integer('annual_rate_bp').notNull(),
    dayCount: dayCount('day_count').notNull(),
    graceDays: integer('grace_days').notNull(),
    autoApprovalThresholdFen: fen('auto_approval_threshold_fen').notNull(),
    status: programStatus('status').notNull().default('active'),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [
    index('programs_bank_idx').on(t.bankOrganizationId),
    index('programs_core_idx').on(t.coreEnterpriseOrganizationId),
    check('programs_outstanding_within_limit', sql`${t.outstandingFen} >= 0 and ${t.outstandingFen} <= ${t.limitFen}`),
  ],
);

export const creditLineStatus = pgEnum('credit_line_status', ['active', 'frozen', 'expired', 'closed']);

/** 授信额度: a supplier's line under one program. */
export const creditLines = pgTable(
  'credit_lines',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    programId: uuid('program_id').notNull().references(() => programs.id),
    bankOrganizationId: uuid('bank_organization_id').notNull().references(() => organizations.id),
    supplierOrganizationId: uuid('supplier_organization_id').notNull().references(() => organizations.id),
    limitFen: fen('limit_fen').notNull(),
    /** Cached Σ journal; a CHECK keeps it within [0, limit] whatever the code does. */
    outstandingFen: fen('outstanding_fen').notNull().default(sql`0`),
    /** Σ drawdowns net of their reversals: what a non-revolving line has used up for good. */
    drawnFen: fen('drawn_fen').notNull().default(sql`0`),
    expiresOn: date('expires_on', { mode: 'string' }).notNull(),
    revolving: boolean('revolving').notNull(),
    status: creditLineStatus('status').notNull().default('active'),
    frozenReason: text('frozen_reason'),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('credit_lines_program_supplier_uq').on(t.programId, t.supplierOrganizationId),
    index('credit_lines_supplier_idx').on(t.supplierOrganizationId),
    check('credit_lines_outstanding_within_limit', sql`${t.outstandingFen} >= 0 and ${t.outstandingFen} <= ${t.limitFen}`),
  ],
);

export const journalKind = pgEnum('credit_line_journal_kind', ['drawdown', 'repayment', 'reversal']);

/** Immutable (a trigger refuses UPDATE and DELETE): every change of a line's outstanding. */
export const creditLineJournal = pgTable(
  'credit_line_journal',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** Posting order: timestamps tie within a millisecond, the journal's order must not. */
    seq: bigint('seq', { mode: 'number' }).generatedAlwaysAsIdentity().notNull(),
    creditLineId: uuid('credit_line_id').notNull().references(() => creditLines.id),
    kind: journalKind('kind').notNull(),
    /** Signed change of outstanding: + drawdown, − repayment, the opposite of the reversed entry. */
    amountFen: fen('amount_fen').notNull(),
    financingRequestId: uuid('financing_request_id'),
    reversesEntryId: uuid('reverses_entry_id'),
    reference: text('reference'),
    valueDate: date('value_date', { mode: 'string' }).notNull(),
    createdAt: ts('created_at').notNull(),
    createdBy: text('created_by').notNull(),
  },
  (t) => [
    index('credit_line_journal_line_idx').on(t.creditLineId, t.seq),
    uniqueIndex('credit_line_journal_reversal_uq').on(t.reversesEntryId),
  ],
);

export const confirmationStatus = pgEnum('invoice_confirmation_status', ['unconfirmed', 'confirmed', 'mismatch', 'rejected']);

/** A supplier's invoice to the core enterprise (应收账款). */
export const invoices = pgTable(
  'invoices',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    supplierOrganizationId: uuid('supplier_organization_id').notNull().references(() => organizations.id),
    buyerOrganizationId: uuid('buyer_organization_id').notNull().references(() => organizations.id),
    /** 发票代码; empty for a fully digital invoice (数电票), whose 20-digit number stands alone. */
    invoiceCode: text('invoice_code').notNull(),
    invoiceNumber: text('invoice_number').notNull(),
    issueDate: date('issue_date', { mode: 'string' }).notNull(),
    dueDate: date('due_date', { mode: 'string' }).notNull(),
    amountFen: fen('amount_fen').notNull(),
    currency: text('currency').notNull(),
    /** sha256 of normalized seller credit code | code | number | amount: the 重复融资 key. */
    fingerprint: text('fingerprint').notNull(),
    confirmationStatus: confirmationStatus('confirmation_status').notNull().default('unconfirmed'),
    /** Why it is not (or no longer) confirmed, in words a supplier can act on. */
    confirmationReason: text('confirmation_reason'),
    confirmedVia: text('confirmed_via', { enum: ['ledger', 'explicit'] }),
    ledgerEntryId: uuid('ledger_entry_id'),
    /** From the matched ledger entry: credit notes and payments reduce what can be financed. */
    creditNoteFen: fen('credit_note_fen').notNull().default(sql`0`),
    paidFen: fen('paid_fen').notNull().default(sql`0`),
    ledgerStatus: text('ledger_status'),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('invoices_supplier_code_number_uq').on(t.supplierOrganizationId, t.invoiceCode, t.invoiceNumber),
    index('invoices_buyer_idx').on(t.buyerOrganizationId, t.supplierOrganizationId, t.invoiceNumber),
    index('invoices_fingerprint_idx').on(t.fingerprint),
  ],
);

export const ledgerStatus = pgEnum('ledger_entry_status', ['open', 'partially_paid', 'paid', 'disputed', 'cancelled']);

/** The core enterprise's accounts-payable ledger (应付账款台账), versioned per ERP entry id. */
export const ledgerEntries = pgTable(
  'ledger_entries',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    coreEnterpriseOrganizationId: uuid('core_enterprise_organization_id').notNull().references(() => organizations.id),
    externalId: text('external_id').notNull(),
    version: integer('version').notNull(),
    current: boolean('current').notNull(),
    supplierCreditCode: text('supplier_credit_code').notNull(),
    /** 发票代码 when the ERP records it ('' otherwise): paper invoice numbers repeat across codes. */
    invoiceCode: text('invoice_code').notNull().default(''),
    invoiceNumber: text('invoice_number').notNull(),
    amountFen: fen('amount_fen').notNull(),
    dueDate: date('due_date', { mode: 'string' }).notNull(),
    status: ledgerStatus('status').notNull(),
    creditNotes: jsonb('credit_notes').$type<{ reference: string; amountFen: number; date: string }[]>().notNull(),
    payments: jsonb('payments').$type<{ reference: string; amountFen: number; date: string }[]>().notNull(),
    creditNoteFen: fen('credit_note_fen').notNull(),
    paidFen: fen('paid_fen').notNull(),
    contentHash: text('content_hash').notNull(),
    source: text('source', { enum: ['json', 'csv'] }).notNull(),
    receivedAt: ts('received_at').notNull(),
  },
  (t) => [
    uniqueIndex('ledger_entries_version_uq').on(t.coreEnterpriseOrganizationId, t.externalId, t.version),
    uniqueIndex('ledger_entries_current_uq').on(t.coreEnterpriseOrganizationId, t.externalId).where(sql`current`),
    index('ledger_entries_match_idx').on(t.coreEnterpriseOrganizationId, t.supplierCreditCode, t.invoiceNumber),
  ],
);

export const financingStatus = pgEnum('financing_status', ['quoted', 'submitted', 'approved', 'rejected', 'disbursed', 'overdue', 'repaid', 'expired', 'cancelled']);

/** A supplier's request to finance confirmed invoices (融资申请), from quote to repayment. */
export const financingRequests = pgTable(
  'financing_requests',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    programId: uuid('program_id').notNull().references(() => programs.id),
    creditLineId: uuid('credit_line_id').notNull().references(() => creditLines.id),
    bankOrganizationId: uuid('bank_organization_id').notNull().references(() => organizations.id),
    supplierOrganizationId: uuid('supplier_organization_id').notNull().references(() => organizations.id),
    status: financingStatus('status').notNull(),
    faceValueFen: fen('face_value_fen').notNull(),
    principalFen: fen('principal_fen').notNull(),
    interestFen: fen('interest_fen').notNull(),
    annualRateBp: integer('annual_rate_bp').notNull(),
    advanceRateBp: integer('advance_rate_bp').notNull(),
    dayCount: dayCount('day_count').notNull(),
    tenorDays: integer('tenor_days').notNull(),
    quotedOn: date('quoted_on', { mode: 'string' }).notNull(),
    maturityDate: date('maturity_date', { mode: 'string' }).notNull(),
    quoteExpiresAt: ts('quote_expires_at').notNull(),
    /** The quote's arithmetic, part by part, as shown to the supplier. */
    breakdown: jsonb('breakdown').notNull(),
    repaidFen: fen('repaid_fen').notNull().default(sql`0`),
    decisionReason: text('decision_reason'),
    decidedBy: text('decided_by'),
    valueDate: date('value_date', { mode: 'string' }),
    disbursementReference: text('disbursement_reference'),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [
    index('financing_requests_line_idx').on(t.creditLineId, t.status),
    index('financing_requests_supplier_idx').on(t.supplierOrganizationId),
    index('financing_requests_bank_idx').on(t.bankOrganizationId),
  ],
);

/**
 * The invoices a request finances. `active` holds the invoice's fingerprint from submission
 * on; the partial unique index is what makes "financed at most once, platform-wide" true
 * under any concurrency. A rejected or expired request releases it.
 */
export const financedInvoices = pgTable(
  'financed_invoices',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    financingRequestId: uuid('financing_request_id').notNull().references(() => financingRequests.id),
    invoiceId: uuid('invoice_id').notNull().references(() => invoices.id),
    fingerprint: text('fingerprint').notNull(),
    outstandingFaceFen: fen('outstanding_face_fen').notNull(),
    advanceFen: fen('advance_fen').notNull(),
    /** Ledger payments already applied as repayment, so a re-sent ledger never repays twice. */
    repaidFromLedgerFen: fen('repaid_from_ledger_fen').notNull().default(sql`0`),
    active: boolean('active').notNull(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('financed_invoices_active_fingerprint_uq').on(t.fingerprint).where(sql`active`),
    uniqueIndex('financed_invoices_request_invoice_uq').on(t.financingRequestId, t.invoiceId),
    index('financed_invoices_invoice_idx').on(t.invoiceId),
  ],
);

/**
 * Domain events the warnings issue turns into signals (e.g. a financed invoice cancelled
 * in the ledger, a refused duplicate-financing attempt). Stored now, read later.
 */
export const financingEvents = pgTable(
  'financing_events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    type: text('type').notNull(),
    bankOrganizationId: uuid('bank_organization_id'),
    supplierOrganizationId: uuid('supplier_organization_id'),
    subjectType: text('subject_type').notNull(),
    subjectId: text('subject_id').notNull(),
    data: jsonb('data').notNull(),
    /** Makes re-processing idempotent: one event per cause. */
    dedupeKey: text('dedupe_key').notNull(),
    occurredAt: ts('occurred_at').notNull(),
  },
  (t) => [uniqueIndex('financing_events_dedupe_uq').on(t.dedupeKey), index('financing_events_type_idx').on(t.type, t.occurredAt)],
);
