import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { ctxOf } from '../../http/context';
import { errorResponses, idempotencyHeader, json, jsonBody, writeErrorResponses } from '../../http/responses';
import type { AppDeps, AppEnv } from '../../http/types';
import { pageQuerySchema } from '../../lib/pagination';
import { idParam } from '../parties/schemas';
import { enrolSupplier, freezeCreditLine, getCreditLine, listCreditLines, listJournal, reconcileCreditLines, reverseJournalEntry, unfreezeCreditLine } from './credit-lines';
import { approveFinancing, cancelFinancing, disburseFinancing, getFinancingRequest, listFinancingRequests, recordRepayment, rejectFinancing, requestQuote, submitFinancing } from './financing-requests';
import { decideInvoiceConfirmation, getInvoice, listInvoices, registerInvoice, registerInvoices } from './invoices';
import { importLedgerCsv, listLedgerEntries, pushLedgerEntries } from './ledger';
import { createProgram, getProgram, listPrograms, setProgramStatus } from './programs';
import {
  approveInput,
  confirmationDecisionInput,
  createProgramInput,
  creditLineOutput,
  creditLinePage,
  decisionInput,
  disburseInput,
  enrolSupplierInput,
  financingRequestOutput,
  financingRequestPage,
  freezeInput,
  invoiceBatchResult,
  invoiceInput,
  invoiceOutput,
  invoicePage,
  journalEntryOutput,
  journalPage,
  ledgerBatchInput,
  ledgerEntryPage,
  ledgerImportReport,
  listFinancingInput,
  listInvoicesInput,
  programOutput,
  programPage,
  quoteInput,
  reconciliationOutput,
  registerInvoicesBatchInput,
  repaymentInput,
  reverseEntryInput,
  setProgramStatusInput,
} from './schemas';

const programId = idParam('programId');
const lineId = idParam('creditLineId');
const invoiceId = idParam('invoiceId');
const requestId = idParam('financingRequestId');
type P<K extends string> = Record<K, string>;

export function registerFinancingRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  // ---- programs
  app.openapi(
    createRoute({ method: 'post', path: '/v1/programs', tags: ['Programs'], summary: 'Set up a financing program with a core enterprise (credit officer)', request: { headers: idempotencyHeader, body: jsonBody(createProgramInput) }, responses: { 201: json(programOutput, 'Created'), ...writeErrorResponses } }),
    async (c) => c.json(await createProgram({ ctx: ctxOf(c, deps), input: c.req.valid('json') }), 201),
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/programs', tags: ['Programs'], summary: 'Programs of the caller’s bank or core enterprise', request: { query: pageQuerySchema }, responses: { 200: json(programPage, 'A page'), ...errorResponses } }),
    async (c) => c.json(await listPrograms({ ctx: ctxOf(c, deps), input: c.req.valid('query') }), 200),
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/programs/{programId}', tags: ['Programs'], summary: 'Get a program', request: { params: programId }, responses: { 200: json(programOutput, 'The program'), ...errorResponses } }),
    async (c) => c.json(await getProgram({ ctx: ctxOf(c, deps), input: c.req.valid('param') as P<'programId'> }), 200),
  );
  app.openapi(
    createRoute({ method: 'post', path: '/v1/programs/{programId}/status', tags: ['Programs'], summary: 'Suspend, reactivate or close a program', request: { params: programId, headers: idempotencyHeader, body: jsonBody(setProgramStatusInput) }, responses: { 200: json(programOutput, 'Updated'), ...writeErrorResponses } }),
    async (c) => c.json(await setProgramStatus({ ctx: ctxOf(c, deps), input: { ...(c.req.valid('param') as P<'programId'>), ...c.req.valid('json') } }), 200),
  );

  // ---- credit lines
  app.openapi(
    createRoute({ method: 'post', path: '/v1/programs/{programId}/credit-lines', tags: ['Credit lines'], summary: 'Enrol a supplier with a credit line (授信)', request: { params: programId, headers: idempotencyHeader, body: jsonBody(enrolSupplierInput) }, responses: { 201: json(creditLineOutput, 'Created'), ...writeErrorResponses } }),
    async (c) => c.json(await enrolSupplier({ ctx: ctxOf(c, deps), input: { ...(c.req.valid('param') as P<'programId'>), ...c.req.valid('json') } }), 201),
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/credit-lines', tags: ['Credit lines'], summary: 'Credit lines of the caller’s bank or supplier', request: { query: pageQuerySchema.extend({ programId: z.uuid().optional() }) }, responses: { 200: json(creditLinePage, 'A page'), ...errorResponses } }),
    async (c) => c.json(await listCreditLines({ ctx: ctxOf(c, deps), input: c.req.valid('query') }), 200),
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/credit-lines/reconciliation', tags: ['Credit lines'], summary: 'Check cached outstanding = Σ journal for every visible line', responses: { 200: json(reconciliationOutput, 'Mismatches, if any'), ...errorResponses } }),
    async (c) => c.json(await reconcileCreditLines({ ctx: ctxOf(c, deps) }), 200),
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/credit-lines/{creditLineId}', tags: ['Credit lines'], summary: 'Get a credit line with its available amount', request: { params: lineId }, responses: { 200: json(creditLineOutput, 'The line'), ...errorResponses } }),
    async (c) => c.json(await getCreditLine({ ctx: ctxOf(c, deps), input: c.req.valid('param') as P<'creditLineId'> }), 200),
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/credit-lines/{creditLineId}/journal', tags: ['Credit lines'], summary: 'The line’s immutable journal', request: { params: lineId, query: pageQuerySchema }, responses: { 200: json(journalPage, 'A page'), ...errorResponses } }),
    async (c) => c.json(await listJournal({ ctx: ctxOf(c, deps), input: { ...(c.req.valid('param') as P<'creditLineId'>), ...c.req.valid('query') } }), 200),
  );
  app.openapi(
    createRoute({ method: 'post', path: '/v1/credit-lines/{creditLineId}/freeze', tags: ['Credit lines'], summary: 'Freeze a line (risk or credit officer)', request: { params: lineId, headers: idempotencyHeader, body: jsonBody(freezeInput) }, responses: { 200: json(creditLineOutput, 'Frozen'), ...writeErrorResponses } }),
    async (c) => c.json(await freezeCreditLine({ ctx: ctxOf(c, deps), input: { ...(c.req.valid('param') as P<'creditLineId'>), ...c.req.valid('json') } }), 200),
  );
  app.openapi(
    createRoute({ method: 'post', path: '/v1/credit-lines/{creditLineId}/unfreeze', tags: ['Credit lines'], summary: 'Unfreeze a line (credit officer only)', request: { params: lineId, headers: idempotencyHeader, body: jsonBody(freezeInput) }, responses: { 200: json(creditLineOutput, 'Active again'), ...writeErrorResponses } }),
    async (c) => c.json(await unfreezeCreditLine({ ctx: ctxOf(c, deps), input: { ...(c.req.valid('param') as P<'creditLineId'>), ...c.req.valid('json') } }), 200),
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/credit-lines/{creditLineId}/journal/{entryId}/reverse',
      tags: ['Credit lines'],
      summary: 'Reverse a drawdown or repayment with an equal and opposite entry',
      request: { params: lineId.extend(idParam('entryId').shape), headers: idempotencyHeader, body: jsonBody(reverseEntryInput) },
      responses: { 201: json(journalEntryOutput, 'The reversal entry'), ...writeErrorResponses },
    }),
    async (c) => c.json(await reverseJournalEntry({ ctx: ctxOf(c, deps), input: { ...(c.req.valid('param') as P<'creditLineId' | 'entryId'>), ...c.req.valid('json') } }), 201),
  );

  // ---- invoices
  app.openapi(
    createRoute({ method: 'post', path: '/v1/invoices', tags: ['Invoices'], summary: 'Register one invoice to a core enterprise (supplier)', request: { headers: idempotencyHeader, body: jsonBody(invoiceInput) }, responses: { 201: json(invoiceOutput, 'Registered (or 200 when identical to a registered one)'), 200: json(invoiceOutput, 'Already registered, identical'), ...writeErrorResponses } }),
    async (c) => {
      const result = await registerInvoice({ ctx: ctxOf(c, deps), input: c.req.valid('json') });
      return result.outcome === 'created' ? c.json(result.invoice, 201) : c.json(result.invoice, 200);
    },
  );
  app.openapi(
    createRoute({ method: 'post', path: '/v1/invoices/batch', tags: ['Invoices'], summary: 'Register up to 1,000 invoices; each one’s result is reported', request: { headers: idempotencyHeader, body: jsonBody(registerInvoicesBatchInput) }, responses: { 200: json(invoiceBatchResult, 'Per-invoice results'), ...writeErrorResponses } }),
    async (c) => c.json(await registerInvoices({ ctx: ctxOf(c, deps), input: c.req.valid('json') }), 200),
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/invoices', tags: ['Invoices'], summary: 'Invoices the caller issued, owes, or finances', request: { query: listInvoicesInput }, responses: { 200: json(invoicePage, 'A page'), ...errorResponses } }),
    async (c) => c.json(await listInvoices({ ctx: ctxOf(c, deps), input: c.req.valid('query') }), 200),
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/invoices/{invoiceId}', tags: ['Invoices'], summary: 'Get an invoice with its confirmation and why', request: { params: invoiceId }, responses: { 200: json(invoiceOutput, 'The invoice'), ...errorResponses } }),
    async (c) => c.json(await getInvoice({ ctx: ctxOf(c, deps), input: c.req.valid('param') as P<'invoiceId'> }), 200),
  );
  for (const decision of ['confirm', 'reject'] as const) {
    app.openapi(
      createRoute({ method: 'post', path: `/v1/invoices/{invoiceId}/${decision}`, tags: ['Invoices'], summary: `The core enterprise ${decision}s the invoice (确权)`, request: { params: invoiceId, headers: idempotencyHeader, body: jsonBody(confirmationDecisionInput) }, responses: { 200: json(invoiceOutput, 'Updated'), ...writeErrorResponses } }),
      async (c) => c.json(await decideInvoiceConfirmation({ ctx: ctxOf(c, deps), input: { ...(c.req.valid('param') as P<'invoiceId'>), ...c.req.valid('json'), decision } }), 200),
    );
  }

  // ---- ERP ledger
  app.openapi(
    createRoute({ method: 'post', path: '/v1/ledger/entries', tags: ['ERP ledger'], summary: 'Push accounts-payable entries (JSON, up to 1,000)', request: { headers: idempotencyHeader, body: jsonBody(ledgerBatchInput) }, responses: { 200: json(ledgerImportReport, 'Per-entry report'), ...writeErrorResponses } }),
    async (c) => c.json(await pushLedgerEntries({ ctx: ctxOf(c, deps), input: c.req.valid('json') }), 200),
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/ledger/entries/csv',
      tags: ['ERP ledger'],
      summary: 'Upload a CSV export (UTF-8 or GBK, header row, amounts in yuan)',
      request: { headers: idempotencyHeader, body: { content: { 'text/csv': { schema: z.string() } }, required: true } },
      responses: { 200: json(ledgerImportReport, 'Per-row report'), ...writeErrorResponses },
    }),
    async (c) => {
      const charset = /charset=([^;]+)/i.exec(c.req.header('content-type') ?? '')?.[1]?.trim();
      const bytes = new Uint8Array(await c.req.arrayBuffer());
      return c.json(await importLedgerCsv({ ctx: ctxOf(c, deps), input: { bytes, charset } }), 200);
    },
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/ledger/entries', tags: ['ERP ledger'], summary: 'Current entries, or every version of one entryId', request: { query: pageQuerySchema.extend({ entryId: z.string().optional() }) }, responses: { 200: json(ledgerEntryPage, 'A page'), ...errorResponses } }),
    async (c) => c.json(await listLedgerEntries({ ctx: ctxOf(c, deps), input: c.req.valid('query') }), 200),
  );

  // ---- financing requests
  app.openapi(
    createRoute({ method: 'post', path: '/v1/financing-requests', tags: ['Financing'], summary: 'Ask for a quote on confirmed invoices (stored as a quoted request)', request: { headers: idempotencyHeader, body: jsonBody(quoteInput) }, responses: { 201: json(financingRequestOutput, 'The quote'), ...writeErrorResponses } }),
    async (c) => c.json(await requestQuote({ ctx: ctxOf(c, deps), input: c.req.valid('json') }), 201),
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/financing-requests', tags: ['Financing'], summary: 'Requests of the caller’s bank or supplier', request: { query: listFinancingInput }, responses: { 200: json(financingRequestPage, 'A page'), ...errorResponses } }),
    async (c) => c.json(await listFinancingRequests({ ctx: ctxOf(c, deps), input: c.req.valid('query') }), 200),
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/financing-requests/{financingRequestId}', tags: ['Financing'], summary: 'Get a request with its breakdown', request: { params: requestId }, responses: { 200: json(financingRequestOutput, 'The request'), ...errorResponses } }),
    async (c) => c.json(await getFinancingRequest({ ctx: ctxOf(c, deps), input: c.req.valid('param') as P<'financingRequestId'> }), 200),
  );
  const transition = <S extends z.ZodTypeAny>(action: string, summary: string, body: S | null, verb: (args: { ctx: ReturnType<typeof ctxOf>; input: { financingRequestId: string } & Record<string, unknown> }) => Promise<unknown>) =>
    app.openapi(
      createRoute({
        method: 'post',
        path: `/v1/financing-requests/{financingRequestId}/${action}`,
        tags: ['Financing'],
        summary,
        request: body ? { params: requestId, headers: idempotencyHeader, body: jsonBody(body) } : { params: requestId, headers: idempotencyHeader },
        responses: { 200: json(financingRequestOutput, 'The request after the transition'), ...writeErrorResponses },
      }),
      async (c) => {
        const valid = (target: 'param' | 'json') => (c.req.valid as (t: typeof target) => Record<string, unknown>).call(c.req, target);
        const input = { ...(valid('param') as P<'financingRequestId'>), ...(body ? valid('json') : {}) };
        return c.json((await verb({ ctx: ctxOf(c, deps), input })) as z.infer<typeof financingRequestOutput>, 200);
      },
    );
  transition('submit', 'Submit a quote as a request (supplier); may be auto-approved', null, submitFinancing);
  transition('approve', 'Approve (credit officer)', approveInput, approveFinancing);
  transition('reject', 'Reject with a reason (credit officer)', decisionInput, rejectFinancing);
  transition('cancel', 'Withdraw (supplier, before a decision) or cancel (credit officer, before disbursement); releases the invoices', decisionInput, cancelFinancing);
  transition('disburse', 'Record the disbursement (放款): value date and reference', disburseInput, disburseFinancing);
  transition('repayments', 'Record a repayment by hand (credit officer)', repaymentInput, recordRepayment);
}
