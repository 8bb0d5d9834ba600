import { and, asc, eq, inArray, or, sql, type SQL } from 'drizzle-orm';
import { financedInvoices, financingRequests, invoices, organizations } from '../../db/schema';
import type { DbOrTx } from '../../db/client';
import { afterCursor } from '../../db/keyset';
import { type Ctx, isPlatformWide, requireRole } from '../../lib/context';
import { AppError, type FieldError, fieldErrorsFromZod } from '../../lib/errors';
import { decodeCursor, pageOf } from '../../lib/pagination';
import { parseInput } from '../../lib/validation';
import { recordAudit } from '../audit/record-audit';
import { loadVisibleInvoice } from './access';
import { invoiceFingerprint, invoiceNumberProblem, normalizeInvoiceText } from './invoice-identity';
import { toInvoice } from './mappers';
import { rematchInvoice } from './matching';
import { confirmationDecisionInput, invoiceInput, listInvoicesInput, registerInvoicesBatchInput } from './schemas';
import { holdingStatuses } from './transitions';

type Invoice = typeof invoices.$inferSelect;

/** none / under_financing (submitted or approved) / financed (disbursed and after). */
export async function financingStates(db: DbOrTx, invoiceIds: string[]): Promise<Map<string, 'none' | 'under_financing' | 'financed'>> {
  const states = new Map<string, 'none' | 'under_financing' | 'financed'>(invoiceIds.map((id) => [id, 'none']));
  if (invoiceIds.length === 0) return states;
  const rows = await db
    .select({ invoiceId: financedInvoices.invoiceId, status: financingRequests.status })
    .from(financedInvoices)
    .innerJoin(financingRequests, eq(financingRequests.id, financedInvoices.financingRequestId))
    .where(and(inArray(financedInvoices.invoiceId, invoiceIds), eq(financedInvoices.active, true), inArray(financingRequests.status, [...holdingStatuses])));
  for (const r of rows) states.set(r.invoiceId, r.status === 'submitted' || r.status === 'approved' ? 'under_financing' : 'financed');
  return states;
}

export async function invoiceViews(db: DbOrTx, rows: Invoice[]) {
  const states = await financingStates(db, rows.map((r) => r.id));
  return rows.map((r) => toInvoice(r, states.get(r.id) ?? 'none'));
}

type ItemResult = { index: number; outcome: 'created' | 'existing' | 'rejected'; invoice?: ReturnType<typeof toInvoice>; errors?: FieldError[] };

/**
 * Registers up to 1,000 invoices of the calling supplier. Each item is validated on its own
 * and reported; the valid ones are written together in one transaction. Re-sending an
 * identical invoice answers `existing`; the same code and number with other details is
 * rejected, naming the registered one.
 */
export async function registerInvoices({ ctx, input }: { ctx: Ctx; input: unknown }) {
  requireRole(ctx, ['supplier_user']);
  const { invoices: items } = parseInput(registerInvoicesBatchInput, input);
  if (ctx.actor.type !== 'user') throw new AppError('forbidden', 'Invoices are registered by a supplier');
  const supplierId = ctx.actor.organizationId;

  return ctx.db.transaction(async (tx) => {
    const [supplier] = await tx.select().from(organizations).where(eq(organizations.id, supplierId));
    const results: ItemResult[] = [];
    const valid: { index: number; values: typeof invoices.$inferInsert }[] = [];
    const seen = new Map<string, number>();
    const buyers = new Map<string, string | null>();

    for (const [index, raw] of items.entries()) {
      const parsed = invoiceInput.safeParse(raw);
      if (!parsed.success) {
        results.push({ index, outcome: 'rejected', errors: fieldErrorsFromZod(parsed.error.issues, `invoices/${index}`) });
        continue;
      }
      const item = parsed.data;
      const invoiceCode = normalizeInvoiceText(item.invoiceCode ?? '');
      const invoiceNumber = normalizeInvoiceText(item.invoiceNumber);
      const errors: FieldError[] = [];
      const numberProblem = invoiceNumberProblem(invoiceCode, invoiceNumber);
      if (numberProblem) errors.push({ path: `invoices/${index}/${numberProblem.path}`, message: numberProblem.message });
      if (item.dueDate < item.issueDate) errors.push({ path: `invoices/${index}/dueDate`, message: 'is before the issue date' });
      if (!buyers.has(item.buyerCreditCode)) {
        const [buyer] = await tx.select({ id: organizations.id }).from(organizations).where(and(eq(organizations.creditCode, item.buyerCreditCode), eq(organizations.kind, 'core_enterprise')));
        buyers.set(item.buyerCreditCode, buyer?.id ?? null);
      }
      const buyerId = buyers.get(item.buyerCreditCode);
      if (!buyerId) errors.push({ path: `invoices/${index}/buyerCreditCode`, message: 'no core enterprise with this credit code is on the platform' });
      const key = `${invoiceCode}|${invoiceNumber}`;
      if (seen.has(key)) errors.push({ path: `invoices/${index}/invoiceNumber`, message: `the same invoice is already item ${seen.get(key)} of this batch` });
      if (errors.length) {
        results.push({ index, outcome: 'rejected', errors });
        continue;
      }
      seen.set(key, index);
      const amountFen = BigInt(item.amountFen);
      const now = ctx.clock.now();
      valid.push({
        index,
        values: {
          supplierOrganizationId: supplierId,
          buyerOrganizationId: buyerId!,
          invoiceCode,
          invoiceNumber,
          issueDate: item.issueDate,
          dueDate: item.dueDate,
          amountFen,
          currency: item.currency,
          fingerprint: invoiceFingerprint({ sellerCreditCode: supplier!.creditCode ?? '', invoiceCode, invoiceNumber, amountFen }),
          createdAt: now,
          updatedAt: now,
        },
      });
    }

    // Same order as a ledger push (buyer first), so a registration and a push never miss each other's rows;
    // inserting in key order keeps two overlapping batches from deadlocking.
    const buyerIds = [...new Set(valid.map((v) => v.values.buyerOrganizationId))].sort();
    if (buyerIds.length) await tx.select({ id: organizations.id }).from(organizations).where(inArray(organizations.id, buyerIds)).orderBy(asc(organizations.id)).for('share');
    valid.sort((a, b) => `${a.values.invoiceCode}|${a.values.invoiceNumber}`.localeCompare(`${b.values.invoiceCode}|${b.values.invoiceNumber}`));
    for (const { index, values } of valid) {
      const [created] = await tx.insert(invoices).values(values).onConflictDoNothing().returning();
      if (created) {
        await rematchInvoice(tx, ctx, created);
        const [fresh] = await tx.select().from(invoices).where(eq(invoices.id, created.id));
        results.push({ index, outcome: 'created', invoice: (await invoiceViews(tx, [fresh!]))[0] });
        await recordAudit(tx, ctx, { organizationId: supplierId, action: 'invoice.registered', subjectType: 'invoice', subjectId: created.id, data: { before: null, after: { invoiceCode: values.invoiceCode, invoiceNumber: values.invoiceNumber, amountFen: String(values.amountFen) } } });
        continue;
      }
      const [existing] = await tx
        .select()
        .from(invoices)
        .where(and(eq(invoices.supplierOrganizationId, supplierId), eq(invoices.invoiceCode, values.invoiceCode), eq(invoices.invoiceNumber, values.invoiceNumber)));
      const same = existing && existing.fingerprint === values.fingerprint && existing.buyerOrganizationId === values.buyerOrganizationId && existing.dueDate === values.dueDate && existing.issueDate === values.issueDate;
      if (same) results.push({ index, outcome: 'existing', invoice: (await invoiceViews(tx, [existing]))[0] });
      else results.push({ index, outcome: 'rejected', errors: [{ path: `invoices/${index}/invoiceNumber`, message: `invoice ${values.invoiceCode || '(数电票)'} ${values.invoiceNumber} is already registered (${existing?.id}) with other details` }] });
    }
    results.sort((a, b) => a.index - b.index);
    const count = (o: ItemResult['outcome']) => results.filter((r) => r.outcome === o).length;
    return { created: count('created'), existing: count('existing'), rejected: count('rejected'), results };
  });
}

/** One invoice: the batch verb with one item, answering its error directly. */
export async function registerInvoice({ ctx, input }: { ctx: Ctx; input: unknown }) {
  const report = await registerInvoices({ ctx, input: { invoices: [input] } });
  const result = report.results[0]!;
  if (result.outcome === 'rejected') {
    const errors = result.errors!.map((e) => ({ path: e.path.replace(/^invoices\/0/, 'body'), message: e.message }));
    const duplicate = errors.some((e) => e.message.includes('already registered'));
    throw new AppError(duplicate ? 'conflict' : 'validation_failed', errors.map((e) => `${e.path}: ${e.message}`).join('; '), { errors });
  }
  return { outcome: result.outcome as 'created' | 'existing', invoice: result.invoice! };
}

export async function listInvoices({ ctx, input }: { ctx: Ctx; input: Record<string, unknown> }) {
  const q = parseInput(listInvoicesInput, input, 'query');
  const where: (SQL | undefined)[] = [afterCursor(invoices.createdAt, invoices.id, decodeCursor(q.cursor))];
  if (q.confirmationStatus) where.push(eq(invoices.confirmationStatus, q.confirmationStatus));
  if (ctx.actor.type === 'user' && !isPlatformWide(ctx.actor)) {
    const org = ctx.actor.organizationId;
    where.push(
      or(
        eq(invoices.supplierOrganizationId, org),
        eq(invoices.buyerOrganizationId, org),
        sql`exists (select 1 from ${financedInvoices} fi join ${financingRequests} fr on fr.id = fi.financing_request_id where fi.invoice_id = ${invoices.id} and fi.active and fr.bank_organization_id = ${org})`,
      ),
    );
  }
  const rows = await ctx.db.select().from(invoices).where(and(...where)).orderBy(asc(invoices.createdAt), asc(invoices.id)).limit(q.limit + 1);
  const page = pageOf(rows, q.limit, (r) => r);
  return { items: await invoiceViews(ctx.db, page.items), nextCursor: page.nextCursor };
}

export async function getInvoice({ ctx, input }: { ctx: Ctx; input: { invoiceId: string } }) {
  const invoice = await loadVisibleInvoice(ctx, input.invoiceId);
  return (await invoiceViews(ctx.db, [invoice]))[0]!;
}

/** The core enterprise confirms (or rejects) an invoice it owes, outside the ledger. */
export async function decideInvoiceConfirmation({ ctx, input }: { ctx: Ctx; input: { invoiceId: string; decision: 'confirm' | 'reject' } & Record<string, unknown> }) {
  requireRole(ctx, ['core_enterprise_user']);
  const data = parseInput(confirmationDecisionInput, input);
  if (input.decision === 'reject' && !data.reason) {
    throw new AppError('validation_failed', 'A rejection needs a reason the supplier can act on', { errors: [{ path: 'body/reason', message: 'required when rejecting' }] });
  }
  return ctx.db.transaction(async (tx) => {
    const invoice = await loadVisibleInvoice(ctx, input.invoiceId, tx, true);
    if (ctx.actor.type === 'user' && invoice.buyerOrganizationId !== ctx.actor.organizationId) throw new AppError('forbidden', 'Only the buyer confirms an invoice');
    const next =
      input.decision === 'confirm'
        ? { confirmationStatus: 'confirmed' as const, confirmationReason: null, confirmedVia: 'explicit' as const }
        : { confirmationStatus: 'rejected' as const, confirmationReason: `rejected by the core enterprise: ${data.reason}`, confirmedVia: 'explicit' as const };
    if (input.decision === 'confirm' && (invoice.ledgerStatus === 'cancelled' || invoice.ledgerStatus === 'disputed')) {
      throw new AppError('conflict', `The core enterprise's own ledger shows this invoice ${invoice.ledgerStatus}; update the ledger first`);
    }
    const [row] = await tx.update(invoices).set({ ...next, updatedAt: ctx.clock.now() }).where(eq(invoices.id, invoice.id)).returning();
    await recordAudit(tx, ctx, {
      organizationId: invoice.supplierOrganizationId,
      action: `invoice.${input.decision === 'confirm' ? 'confirmed' : 'rejected'}`,
      subjectType: 'invoice',
      subjectId: invoice.id,
      data: { before: { confirmationStatus: invoice.confirmationStatus }, after: next, reason: data.reason ?? null },
    });
    return (await invoiceViews(tx, [row!]))[0]!;
  });
}
