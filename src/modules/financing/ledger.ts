import { createHash } from 'node:crypto';
import { and, asc, eq, inArray } from 'drizzle-orm';
import { decodeCsv, readCsvTable } from '../../lib/csv';
import { financedInvoices, financingRequests, invoices, ledgerEntries, organizations } from '../../db/schema';
import { afterCursor, afterSeq, seqPageOf } from '../../db/keyset';
import { type Ctx, isPlatformWide, requireRole } from '../../lib/context';
import { AppError, type FieldError, fieldErrorsFromZod } from '../../lib/errors';
import { decodeCursor, pageOf, pageQuerySchema } from '../../lib/pagination';
import { parseInput } from '../../lib/validation';
import { parseYuanToFen } from '../../lib/money';
import { recordAudit } from '../audit/record-audit';
import { normalizeInvoiceText } from './invoice-identity';
import { toLedgerEntry } from './mappers';
import { rematchInvoice } from './matching';
import { ledgerBatchInput, ledgerEntryInput } from './schemas';

type RowOutcome = { row: number; entryId: string | null; outcome: 'created' | 'new_version' | 'unchanged' | 'rejected'; version?: number; errors?: FieldError[] };
type ParsedEntry = ReturnType<typeof ledgerEntryInput.parse>;

export const MAX_CSV_ROWS = 5000;

/**
 * Writes ledger entries pushed by a core enterprise (应付账款). Each row is validated on its
 * own and reported; every valid row is then written in one transaction (nothing is
 * half-written). Re-sending an entry unchanged is a no-op; a changed entry becomes a new
 * version with its history kept. Affected invoices are re-matched (确权) in the same
 * transaction, which also applies ledger payments on financed invoices as repayments.
 */
async function applyLedgerRows(ctx: Ctx, rows: { row: number; raw: unknown; preErrors?: FieldError[] }[], source: 'json' | 'csv', pathPrefix: (row: number) => string) {
  requireRole(ctx, ['core_enterprise_user']);
  if (ctx.actor.type !== 'user') throw new AppError('forbidden', 'Ledger entries come from a core enterprise');
  const coreId = ctx.actor.organizationId;
  const outcomes: RowOutcome[] = [];
  const valid: { row: number; entry: ParsedEntry }[] = [];
  const seen = new Map<string, number>();
  for (const { row, raw, preErrors } of rows) {
    const entryId = typeof (raw as { entryId?: unknown })?.entryId === 'string' ? ((raw as { entryId: string }).entryId.trim() || null) : null;
    if (preErrors?.length) {
      outcomes.push({ row, entryId, outcome: 'rejected', errors: preErrors });
      continue;
    }
    const parsed = ledgerEntryInput.safeParse(raw);
    if (!parsed.success) {
      outcomes.push({ row, entryId, outcome: 'rejected', errors: fieldErrorsFromZod(parsed.error.issues, pathPrefix(row)) });
      continue;
    }
    const entry = { ...parsed.data, invoiceCode: normalizeInvoiceText(parsed.data.invoiceCode), invoiceNumber: normalizeInvoiceText(parsed.data.invoiceNumber) };
    const errors: FieldError[] = [];
    const credited = entry.creditNotes.reduce((s, c) => s + BigInt(c.amountFen), 0n);
    const paid = entry.payments.reduce((s, p) => s + BigInt(p.amountFen), 0n);
    if (credited + paid > BigInt(entry.amountFen)) errors.push({ path: `${pathPrefix(row)}/payments`, message: 'credit notes and payments exceed the amount' });
    if (entry.status === 'paid' && credited + paid !== BigInt(entry.amountFen)) errors.push({ path: `${pathPrefix(row)}/status`, message: 'paid, but payments and credit notes do not add up to the amount' });
    if (seen.has(entry.entryId)) errors.push({ path: `${pathPrefix(row)}/entryId`, message: `entry ${entry.entryId} already appears in row ${seen.get(entry.entryId)} of this upload` });
    if (errors.length) {
      outcomes.push({ row, entryId: entry.entryId, outcome: 'rejected', errors });
      continue;
    }
    seen.set(entry.entryId, row);
    valid.push({ row, entry });
  }

  return ctx.db.transaction(async (tx) => {
    // One writer per core enterprise at a time: versions never race.
    await tx.select({ id: organizations.id }).from(organizations).where(eq(organizations.id, coreId)).for('update');
    const touched: { supplierCreditCode: string; invoiceNumber: string }[] = [];
    for (const { row, entry } of valid) {
      const creditNoteFen = entry.creditNotes.reduce((s, c) => s + BigInt(c.amountFen), 0n);
      const paidFen = entry.payments.reduce((s, p) => s + BigInt(p.amountFen), 0n);
      const content = { supplierCreditCode: entry.supplierCreditCode, invoiceCode: entry.invoiceCode, invoiceNumber: entry.invoiceNumber, amountFen: entry.amountFen, dueDate: entry.dueDate, status: entry.status, creditNotes: entry.creditNotes, payments: entry.payments };
      const contentHash = createHash('sha256').update(JSON.stringify(content)).digest('hex');
      const [current] = await tx
        .select()
        .from(ledgerEntries)
        .where(and(eq(ledgerEntries.coreEnterpriseOrganizationId, coreId), eq(ledgerEntries.externalId, entry.entryId), eq(ledgerEntries.current, true)));
      if (current && current.contentHash === contentHash) {
        outcomes.push({ row, entryId: entry.entryId, outcome: 'unchanged', version: current.version });
        continue;
      }
      if (current) {
        await tx.update(ledgerEntries).set({ current: false }).where(eq(ledgerEntries.id, current.id));
        touched.push({ supplierCreditCode: current.supplierCreditCode, invoiceNumber: current.invoiceNumber });
      }
      const version = (current?.version ?? 0) + 1;
      const [inserted] = await tx
        .insert(ledgerEntries)
        .values({
          coreEnterpriseOrganizationId: coreId,
          externalId: entry.entryId,
          version,
          current: true,
          supplierCreditCode: entry.supplierCreditCode,
          invoiceCode: entry.invoiceCode,
          invoiceNumber: entry.invoiceNumber,
          amountFen: BigInt(entry.amountFen),
          dueDate: entry.dueDate,
          status: entry.status,
          creditNotes: entry.creditNotes,
          payments: entry.payments,
          creditNoteFen,
          paidFen,
          contentHash,
          source,
          receivedAt: ctx.clock.now(),
        })
        .returning();
      touched.push({ supplierCreditCode: entry.supplierCreditCode, invoiceNumber: entry.invoiceNumber });
      outcomes.push({ row, entryId: entry.entryId, outcome: version === 1 ? 'created' : 'new_version', version });
      await recordAudit(tx, ctx, {
        organizationId: coreId,
        action: version === 1 ? 'ledger_entry.created' : 'ledger_entry.changed',
        subjectType: 'ledger_entry',
        subjectId: inserted!.id,
        data: { before: current ? toLedgerEntry(current) : null, after: toLedgerEntry(inserted!) },
      });
    }

    let invoicesUpdated = 0;
    let repaymentsApplied = 0;
    const numbers = [...new Set(touched.map((t) => t.invoiceNumber))];
    if (numbers.length) {
      const candidates = await tx
        .select({ invoice: invoices, supplierCode: organizations.creditCode })
        .from(invoices)
        .innerJoin(organizations, eq(organizations.id, invoices.supplierOrganizationId))
        .where(and(eq(invoices.buyerOrganizationId, coreId), inArray(invoices.invoiceNumber, numbers)))
        .orderBy(asc(invoices.id))
        .for('update', { of: invoices });
      const wanted = new Set(touched.map((t) => `${t.supplierCreditCode}|${t.invoiceNumber}`));
      const affected = candidates.filter(({ invoice, supplierCode }) => wanted.has(`${supplierCode}|${invoice.invoiceNumber}`));
      // Lock every financing request these invoices back, in id order, before any repayment
      // takes a program or line lock: the order invoices → requests → program → line holds.
      if (affected.length) {
        await tx
          .select({ id: financingRequests.id })
          .from(financingRequests)
          .where(
            inArray(
              financingRequests.id,
              tx.select({ id: financedInvoices.financingRequestId }).from(financedInvoices).where(and(inArray(financedInvoices.invoiceId, affected.map((a) => a.invoice.id)), eq(financedInvoices.active, true))),
            ),
          )
          .orderBy(asc(financingRequests.id))
          .for('update');
      }
      for (const { invoice } of affected) {
        const result = await rematchInvoice(tx, ctx, invoice);
        if (result.changed) invoicesUpdated++;
        repaymentsApplied += result.repayments;
      }
    }
    outcomes.sort((a, b) => a.row - b.row);
    return { accepted: outcomes.filter((o) => o.outcome !== 'rejected').length, rejected: outcomes.filter((o) => o.outcome === 'rejected').length, rows: outcomes, invoicesUpdated, repaymentsApplied };
  });
}

/** JSON batch of up to 1,000 entries. */
export async function pushLedgerEntries({ ctx, input }: { ctx: Ctx; input: unknown }) {
  requireRole(ctx, ['core_enterprise_user']);
  const { entries } = parseInput(ledgerBatchInput, input);
  return applyLedgerRows(
    ctx,
    entries.map((raw, i) => ({ row: i, raw })),
    'json',
    (row) => `entries/${row}`,
  );
}

/** Column names accepted in a CSV header (English or the Chinese an ERP export uses). */
const CSV_COLUMNS: Record<string, string> = {
  entry_id: 'entryId',
  单据号: 'entryId',
  supplier_credit_code: 'supplierCreditCode',
  供应商统一社会信用代码: 'supplierCreditCode',
  invoice_code: 'invoiceCode',
  发票代码: 'invoiceCode',
  invoice_number: 'invoiceNumber',
  发票号码: 'invoiceNumber',
  amount: 'amount',
  金额: 'amount',
  due_date: 'dueDate',
  到期日: 'dueDate',
  status: 'status',
  状态: 'status',
  credit_note_amount: 'creditNoteAmount',
  贷项金额: 'creditNoteAmount',
  paid_amount: 'paidAmount',
  已付金额: 'paidAmount',
  payment_reference: 'paymentReference',
  付款流水号: 'paymentReference',
  payment_date: 'paymentDate',
  付款日期: 'paymentDate',
};
const REQUIRED_COLUMNS = ['entryId', 'supplierCreditCode', 'invoiceNumber', 'amount', 'dueDate', 'status'];
const STATUS_WORDS: Record<string, string> = { 未付: 'open', 部分付款: 'partially_paid', 已付: 'paid', 已付清: 'paid', 争议: 'disputed', 作废: 'cancelled', 已作废: 'cancelled' };

/** CSV amounts are yuan; the one parser lives in the money module. */
export const yuanToFen = parseYuanToFen;

export { decodeCsv };

/**
 * CSV upload with a header row, amounts in yuan (两位小数). One row per entry; credit notes
 * and payments are given as totals (with an optional payment reference and date).
 */
export async function importLedgerCsv({ ctx, input }: { ctx: Ctx; input: { bytes: Uint8Array; charset?: string } }) {
  requireRole(ctx, ['core_enterprise_user']);
  const table = readCsvTable(input, {
    aliases: CSV_COLUMNS,
    required: REQUIRED_COLUMNS,
    expected: 'entry_id, supplier_credit_code, invoice_number, amount, due_date, status[, invoice_code, credit_note_amount, paid_amount, payment_reference, payment_date]',
    maxRows: MAX_CSV_ROWS,
    one: 'entry',
    many: 'entries',
  });

  const rows = table.rows.map(({ line: row, get }) => {
    const errors: FieldError[] = [];
    const amount = (name: string, required: boolean) => {
      const v = get(name);
      if (!v) {
        if (required) errors.push({ path: `row ${row}/${name}`, message: 'required' });
        return 0;
      }
      const fen = yuanToFen(v);
      if (fen === null) errors.push({ path: `row ${row}/${name}`, message: `"${v}" is not an amount in yuan with at most 2 decimals` });
      return fen ?? 0;
    };
    const amountFen = amount('amount', true);
    const creditNoteFen = amount('creditNoteAmount', false);
    const paidFen = amount('paidAmount', false);
    const statusWord = get('status');
    const dueDate = get('dueDate').replaceAll('/', '-');
    const paymentDate = get('paymentDate').replaceAll('/', '-') || dueDate;
    const raw = {
      entryId: get('entryId'),
      supplierCreditCode: get('supplierCreditCode'),
      invoiceCode: get('invoiceCode'),
      invoiceNumber: get('invoiceNumber'),
      amountFen,
      dueDate,
      status: STATUS_WORDS[statusWord] ?? statusWord.toLowerCase(),
      creditNotes: creditNoteFen > 0 ? [{ reference: `${get('entryId')}-credit`, amountFen: creditNoteFen, date: paymentDate }] : [],
      payments: paidFen > 0 ? [{ reference: get('paymentReference') || `${get('entryId')}-paid`, amountFen: paidFen, date: paymentDate }] : [],
    };
    return { row, raw, preErrors: errors };
  });
  return applyLedgerRows(ctx, rows, 'csv', (row) => `row ${row}`);
}

/** The core enterprise's current entries (or every version of one entry id). */
export async function listLedgerEntries({ ctx, input }: { ctx: Ctx; input: Record<string, unknown> }) {
  requireRole(ctx, ['core_enterprise_user', 'platform_admin']);
  const q = parseInput(pageQuerySchema, input, 'query');
  const entryId = typeof input.entryId === 'string' ? input.entryId : undefined;
  const own = ctx.actor.type === 'user' && !isPlatformWide(ctx.actor) ? eq(ledgerEntries.coreEnterpriseOrganizationId, ctx.actor.organizationId) : undefined;
  if (entryId) {
    // One entry's history, oldest version first; the cursor is the last version seen.
    const rows = await ctx.db
      .select()
      .from(ledgerEntries)
      .where(and(own, eq(ledgerEntries.externalId, entryId), afterSeq(ledgerEntries.version, q.cursor)))
      .orderBy(asc(ledgerEntries.version))
      .limit(q.limit + 1);
    return seqPageOf(rows.map((r) => ({ ...r, seq: r.version })), q.limit, toLedgerEntry);
  }
  const rows = await ctx.db
    .select()
    .from(ledgerEntries)
    .where(and(own, eq(ledgerEntries.current, true), afterCursor(ledgerEntries.receivedAt, ledgerEntries.id, decodeCursor(q.cursor))))
    .orderBy(asc(ledgerEntries.receivedAt), asc(ledgerEntries.id))
    .limit(q.limit + 1);
  return pageOf(rows.map((r) => ({ ...r, createdAt: r.receivedAt })), q.limit, toLedgerEntry);
}
