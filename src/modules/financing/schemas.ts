import { z } from '@hono/zod-openapi';
import { pageQuerySchema, pageSchema } from '../../lib/pagination';
import { creditCodeSchema } from '../parties/schemas';

/**
 * Integer fen (分), at most ¥100 billion per amount: sums of up to a few hundred of them
 * stay exact as JSON numbers (below 2^53).
 */
export const MAX_AMOUNT_FEN = 10_000_000_000_000;
export const fenInput = z.number().int('must be an integer amount of fen').min(0).max(MAX_AMOUNT_FEN, 'at most 10,000,000,000,000 fen (¥100 billion)');
export const positiveFenInput = fenInput.min(1, 'must be more than 0 fen');
export const basisPoints = (max: number) => z.number().int().min(0).max(max);
export const isoDate = z.iso
  .date({ message: 'must be a date YYYY-MM-DD' })
  .refine((d) => d >= '1900-01-01' && d <= '2199-12-31', { message: 'must be between 1900-01-01 and 2199-12-31' });

// ---------- programs ----------
export const createProgramInput = z
  .object({
    coreEnterpriseOrganizationId: z.uuid(),
    name: z.string().trim().min(1).max(200),
    limitFen: positiveFenInput,
    advanceRateBp: basisPoints(10_000).min(1).openapi({ example: 8000, description: 'Share of outstanding face value advanced, in basis points (8000 = 80%)' }),
    maxTenorDays: z.number().int().min(1).max(3650),
    annualRateBp: basisPoints(10_000).openapi({ example: 450, description: 'Annual interest rate in basis points (450 = 4.50%)' }),
    dayCount: z.enum(['ACT/360', 'ACT/365']),
    graceDays: z.number().int().min(0).max(365),
    autoApprovalThresholdFen: fenInput.openapi({ description: 'Requests with principal ≤ this are approved automatically; 0 = always manual' }),
  })
  .openapi('CreateProgram');

export const programOutput = z
  .object({
    id: z.uuid(),
    bankOrganizationId: z.uuid(),
    coreEnterpriseOrganizationId: z.uuid(),
    name: z.string(),
    limitFen: z.number().int(),
    outstandingFen: z.number().int(),
    advanceRateBp: z.number().int(),
    maxTenorDays: z.number().int(),
    annualRateBp: z.number().int(),
    dayCount: z.enum(['ACT/360', 'ACT/365']),
    graceDays: z.number().int(),
    autoApprovalThresholdFen: z.number().int(),
    status: z.enum(['active', 'suspended', 'closed']),
    createdAt: z.iso.datetime(),
  })
  .openapi('Program');
export const programPage = pageSchema(programOutput).openapi('ProgramPage');
export const setProgramStatusInput = z.object({ status: z.enum(['active', 'suspended', 'closed']), reason: z.string().trim().min(1).max(500) }).openapi('SetProgramStatus');

// ---------- credit lines ----------
export const enrolSupplierInput = z
  .object({
    supplierOrganizationId: z.uuid(),
    limitFen: positiveFenInput,
    expiresOn: isoDate,
    revolving: z.boolean(),
  })
  .openapi('EnrolSupplier');

export const creditLineOutput = z
  .object({
    id: z.uuid(),
    programId: z.uuid(),
    bankOrganizationId: z.uuid(),
    supplierOrganizationId: z.uuid(),
    limitFen: z.number().int(),
    outstandingFen: z.number().int(),
    drawnFen: z.number().int(),
    reservedFen: z.number().int().openapi({ description: 'Approved requests not yet disbursed' }),
    availableFen: z.number().int().openapi({ description: 'limit − (outstanding, or drawn for a non-revolving line) − reserved' }),
    expiresOn: z.string(),
    revolving: z.boolean(),
    status: z.enum(['active', 'frozen', 'expired', 'closed']),
    frozenReason: z.string().nullable(),
    createdAt: z.iso.datetime(),
  })
  .openapi('CreditLine');
export const creditLinePage = pageSchema(creditLineOutput).openapi('CreditLinePage');
export const freezeInput = z.object({ reason: z.string().trim().min(1).max(500) }).openapi('FreezeCreditLine');

export const journalEntryOutput = z
  .object({
    id: z.uuid(),
    creditLineId: z.uuid(),
    kind: z.enum(['drawdown', 'repayment', 'reversal']),
    amountFen: z.number().int(),
    financingRequestId: z.uuid().nullable(),
    reversesEntryId: z.uuid().nullable(),
    reference: z.string().nullable(),
    valueDate: z.string(),
    createdAt: z.iso.datetime(),
    createdBy: z.string(),
  })
  .openapi('JournalEntry');
export const journalPage = pageSchema(journalEntryOutput).openapi('JournalPage');
export const reverseEntryInput = z.object({ reason: z.string().trim().min(1).max(500) }).openapi('ReverseJournalEntry');

export const reconciliationOutput = z
  .object({
    checkedLines: z.number().int(),
    mismatches: z.array(z.object({ creditLineId: z.uuid(), cachedOutstandingFen: z.number().int(), journalSumFen: z.number().int(), differenceFen: z.number().int() })),
  })
  .openapi('Reconciliation');

// ---------- invoices ----------
export const invoiceInput = z
  .object({
    buyerCreditCode: creditCodeSchema.openapi({ description: "The core enterprise's unified social credit code" }),
    invoiceCode: z.string().max(20).optional().openapi({ description: '发票代码 (10 or 12 digits); omit for a fully digital invoice (数电票)' }),
    invoiceNumber: z.string().min(1).max(30).openapi({ description: '8 digits, or 20 for a 数电票' }),
    issueDate: isoDate,
    dueDate: isoDate,
    amountFen: positiveFenInput,
    currency: z.literal('CNY').default('CNY'),
  })
  .openapi('RegisterInvoice');
export const registerInvoicesBatchInput = z.object({ invoices: z.array(z.unknown()).min(1).max(1000) }).openapi('RegisterInvoicesBatch');

export const invoiceOutput = z
  .object({
    id: z.uuid(),
    supplierOrganizationId: z.uuid(),
    buyerOrganizationId: z.uuid(),
    invoiceCode: z.string(),
    invoiceNumber: z.string(),
    issueDate: z.string(),
    dueDate: z.string(),
    amountFen: z.number().int(),
    currency: z.string(),
    confirmationStatus: z.enum(['unconfirmed', 'confirmed', 'mismatch', 'rejected']),
    confirmationReason: z.string().nullable().openapi({ description: 'Why it is not confirmed: no entry, amount differs by X, disputed, cancelled…' }),
    confirmedVia: z.enum(['ledger', 'explicit']).nullable(),
    creditNoteFen: z.number().int(),
    paidFen: z.number().int(),
    financeableFaceFen: z.number().int().openapi({ description: 'amount − credit notes − payments; 0 when disputed or cancelled' }),
    ledgerStatus: z.string().nullable(),
    financing: z.enum(['none', 'under_financing', 'financed']),
    createdAt: z.iso.datetime(),
  })
  .openapi('Invoice');
export const invoicePage = pageSchema(invoiceOutput).openapi('InvoicePage');
export const invoiceBatchResult = z
  .object({
    created: z.number().int(),
    existing: z.number().int(),
    rejected: z.number().int(),
    results: z.array(
      z.object({
        index: z.number().int(),
        outcome: z.enum(['created', 'existing', 'rejected']),
        invoice: invoiceOutput.optional(),
        errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
      }),
    ),
  })
  .openapi('InvoiceBatchResult');
export const listInvoicesInput = pageQuerySchema.extend({ confirmationStatus: z.enum(['unconfirmed', 'confirmed', 'mismatch', 'rejected']).optional() });
export const confirmationDecisionInput = z.object({ reason: z.string().trim().max(500).optional() }).openapi('InvoiceConfirmationDecision');

// ---------- ERP ledger ----------
const ledgerMovement = z.object({ reference: z.string().trim().min(1).max(100), amountFen: positiveFenInput, date: isoDate });
export const ledgerEntryInput = z
  .object({
    entryId: z.string().trim().min(1).max(100).openapi({ description: "The ERP's own id for the payable" }),
    supplierCreditCode: creditCodeSchema,
    invoiceCode: z.string().trim().max(20).default('').openapi({ description: '发票代码, when the ERP has it: paper invoice numbers repeat across codes, so an entry without one that fits several invoices confirms none' }),
    invoiceNumber: z.string().trim().min(1).max(30),
    amountFen: positiveFenInput,
    dueDate: isoDate,
    status: z.enum(['open', 'partially_paid', 'paid', 'disputed', 'cancelled']),
    creditNotes: z.array(ledgerMovement).max(100).default([]),
    payments: z.array(ledgerMovement).max(1000).default([]),
  })
  .openapi('LedgerEntry');
export const ledgerBatchInput = z.object({ entries: z.array(z.unknown()).min(1).max(1000) }).openapi('LedgerBatch');
export const ledgerEntryOutput = z
  .object({
    id: z.uuid(),
    entryId: z.string(),
    version: z.number().int(),
    current: z.boolean(),
    supplierCreditCode: z.string(),
    invoiceNumber: z.string(),
    amountFen: z.number().int(),
    dueDate: z.string(),
    status: z.enum(['open', 'partially_paid', 'paid', 'disputed', 'cancelled']),
    creditNoteFen: z.number().int(),
    paidFen: z.number().int(),
    creditNotes: z.array(z.object({ reference: z.string(), amountFen: z.number().int(), date: z.string() })),
    payments: z.array(z.object({ reference: z.string(), amountFen: z.number().int(), date: z.string() })),
    source: z.enum(['json', 'csv']),
    receivedAt: z.iso.datetime(),
  })
  .openapi('LedgerEntryVersion');
export const ledgerEntryPage = pageSchema(ledgerEntryOutput).openapi('LedgerEntryPage');
export const ledgerImportReport = z
  .object({
    accepted: z.number().int(),
    rejected: z.number().int(),
    rows: z.array(
      z.object({
        row: z.number().int().openapi({ description: 'CSV line number (header = 1) or array index' }),
        entryId: z.string().nullable(),
        outcome: z.enum(['created', 'new_version', 'unchanged', 'rejected']),
        version: z.number().int().optional(),
        errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
      }),
    ),
    invoicesUpdated: z.number().int().openapi({ description: 'Invoices whose confirmation changed' }),
    repaymentsApplied: z.number().int(),
  })
  .openapi('LedgerImportReport');

// ---------- financing ----------
export const quoteInput = z
  .object({ creditLineId: z.uuid(), invoiceIds: z.array(z.uuid()).min(1).max(200) })
  .refine((v) => new Set(v.invoiceIds).size === v.invoiceIds.length, { message: 'an invoice is listed twice', path: ['invoiceIds'] })
  .openapi('RequestQuote');
export const decisionInput = z.object({ reason: z.string().trim().min(1).max(500) }).openapi('FinancingDecision');
export const approveInput = z.object({ reason: z.string().trim().max(500).optional() }).openapi('FinancingApproval');
export const disburseInput = z.object({ valueDate: isoDate.optional(), reference: z.string().trim().min(1).max(100) }).openapi('Disbursement');
export const repaymentInput = z.object({ amountFen: positiveFenInput, reference: z.string().trim().min(1).max(100), valueDate: isoDate.optional() }).openapi('ManualRepayment');

export const financingRequestOutput = z
  .object({
    id: z.uuid(),
    programId: z.uuid(),
    creditLineId: z.uuid(),
    bankOrganizationId: z.uuid(),
    supplierOrganizationId: z.uuid(),
    status: z.enum(['quoted', 'submitted', 'approved', 'rejected', 'disbursed', 'overdue', 'repaid', 'expired', 'cancelled']),
    faceValueFen: z.number().int(),
    principalFen: z.number().int(),
    interestFen: z.number().int(),
    repaidFen: z.number().int(),
    outstandingFen: z.number().int(),
    annualRateBp: z.number().int(),
    advanceRateBp: z.number().int(),
    dayCount: z.enum(['ACT/360', 'ACT/365']),
    tenorDays: z.number().int(),
    quotedOn: z.string(),
    maturityDate: z.string(),
    quoteExpiresAt: z.iso.datetime(),
    breakdown: z.record(z.string(), z.unknown()),
    invoices: z.array(z.object({ invoiceId: z.uuid(), outstandingFaceFen: z.number().int(), advanceFen: z.number().int() })),
    decisionReason: z.string().nullable(),
    decidedBy: z.string().nullable(),
    valueDate: z.string().nullable(),
    disbursementReference: z.string().nullable(),
    createdAt: z.iso.datetime(),
  })
  .openapi('FinancingRequest');
export const financingRequestPage = pageSchema(financingRequestOutput).openapi('FinancingRequestPage');
export const listFinancingInput = pageQuerySchema.extend({ status: financingRequestOutput.shape.status.optional() });
