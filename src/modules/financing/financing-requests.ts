import { openRedSignalsAgainst } from '../warnings/signals';
import { and, asc, eq, inArray, lt, or, sql, type SQL } from 'drizzle-orm';
import { creditLineJournal, creditLines, financedInvoices, financingEvents, financingRequests, invoices, ledgerEntries, programs } from '../../db/schema';
import type { DbOrTx } from '../../db/client';
import { isUniqueViolation } from '../../db/errors';
import { afterCursor } from '../../db/keyset';
import { addDays } from '../../lib/clock';
import { type Ctx, actorName, isPlatformWide, requireOwnBank, requireRole, today } from '../../lib/context';
import { AppError, type FieldError } from '../../lib/errors';
import { type Fen, formatYuan, minFen, toApiFen } from '../../lib/money';
import { decodeCursor, pageOf } from '../../lib/pagination';
import { parseInput } from '../../lib/validation';
import { recordAudit } from '../audit/record-audit';
import { lineAvailableFen, loadVisibleLine, loadVisibleRequest, lockLineAndProgram, programRemainingFen, reservedFen } from './access';
import { postJournalEntry } from './journal';
import { financeableFaceFen } from './mappers';
import { computeQuote } from './quote-math';
import { approveInput, decisionInput, disburseInput, listFinancingInput, quoteInput, repaymentInput } from './schemas';
import { assertTransition, type FinancingStatus } from './transitions';

/** How long a quote may be submitted unchanged. */
export const QUOTE_VALIDITY_MS = 60 * 60 * 1000;

type Request = typeof financingRequests.$inferSelect;
type Line = typeof creditLines.$inferSelect;
type Program = typeof programs.$inferSelect;

export async function requestView(db: DbOrTx, r: Request) {
  const items = await db.select().from(financedInvoices).where(eq(financedInvoices.financingRequestId, r.id)).orderBy(asc(financedInvoices.createdAt), asc(financedInvoices.id));
  return {
    id: r.id,
    programId: r.programId,
    creditLineId: r.creditLineId,
    bankOrganizationId: r.bankOrganizationId,
    supplierOrganizationId: r.supplierOrganizationId,
    status: r.status,
    faceValueFen: toApiFen(r.faceValueFen),
    principalFen: toApiFen(r.principalFen),
    interestFen: toApiFen(r.interestFen),
    repaidFen: toApiFen(r.repaidFen),
    outstandingFen: toApiFen(r.status === 'disbursed' || r.status === 'overdue' ? r.principalFen - r.repaidFen : 0n),
    annualRateBp: r.annualRateBp,
    advanceRateBp: r.advanceRateBp,
    dayCount: r.dayCount,
    tenorDays: r.tenorDays,
    quotedOn: r.quotedOn,
    maturityDate: r.maturityDate,
    quoteExpiresAt: r.quoteExpiresAt.toISOString(),
    breakdown: r.breakdown as Record<string, unknown>,
    invoices: items.map((i) => ({ invoiceId: i.invoiceId, outstandingFaceFen: toApiFen(i.outstandingFaceFen), advanceFen: toApiFen(i.advanceFen) })),
    decisionReason: r.decisionReason,
    decidedBy: r.decidedBy,
    valueDate: r.valueDate,
    disbursementReference: r.disbursementReference,
    createdAt: r.createdAt.toISOString(),
  };
}

/** A later disbursement never pushes maturity past the quote's (the earliest invoice due date). */
const minDate = (a: string, b: string) => (a < b ? a : b);


/** Refuses a line or program that cannot take a drawdown today, saying why. */
function assertLineUsable(ctx: Ctx, line: Line, program: Program) {
  if (program.status !== 'active') throw new AppError('conflict', `The program is ${program.status}`, { extra: { programStatus: program.status } });
  if (line.status !== 'active') throw new AppError('conflict', `The credit line is ${line.status}${line.frozenReason ? ` (${line.frozenReason})` : ''}`, { extra: { creditLineStatus: line.status } });
  if (line.expiresOn < today(ctx)) throw new AppError('conflict', `The credit line expired on ${line.expiresOn}`, { extra: { creditLineStatus: 'expired' } });
}

/** Stores a refused duplicate-financing attempt (its own transaction: the refusal rolls back the rest). */
async function recordDuplicateAttempt(ctx: Ctx, conflicts: { invoiceId: string; fingerprint: string }[], line: Line) {
  if (conflicts.length === 0) return;
  await ctx.db
    .insert(financingEvents)
    .values(
      conflicts.map((c) => ({
        type: 'duplicate_financing_refused',
        bankOrganizationId: line.bankOrganizationId,
        supplierOrganizationId: line.supplierOrganizationId,
        subjectType: 'invoice',
        subjectId: c.invoiceId,
        data: { fingerprint: c.fingerprint, creditLineId: line.id, requestId: ctx.requestId },
        dedupeKey: `duplicate:${ctx.requestId}:${c.invoiceId}`,
        occurredAt: ctx.clock.now(),
      })),
    )
    .onConflictDoNothing();
}

/** Invoices whose fingerprint is already held by a request anywhere on the platform (重复融资). */
async function heldFingerprints(db: DbOrTx, fingerprints: string[], exceptRequestId?: string) {
  if (fingerprints.length === 0) return [];
  return db
    .select({ fingerprint: financedInvoices.fingerprint, requestId: financedInvoices.financingRequestId, bankOrganizationId: financingRequests.bankOrganizationId })
    .from(financedInvoices)
    .innerJoin(financingRequests, eq(financingRequests.id, financedInvoices.financingRequestId))
    .where(
      and(
        inArray(financedInvoices.fingerprint, fingerprints),
        eq(financedInvoices.active, true),
        exceptRequestId ? sql`${financedInvoices.financingRequestId} <> ${exceptRequestId}` : undefined,
      ),
    );
}

class DuplicateFinancing extends Error {
  constructor(readonly conflicts: { invoiceId: string; fingerprint: string; invoiceNumber: string }[]) {
    super('duplicate financing');
  }
}

function duplicateError(ctx: Ctx, conflicts: { invoiceNumber: string }[]) {
  return new AppError(
    'conflict',
    `Refused: invoice ${conflicts.map((c) => c.invoiceNumber).join(', ')} is already financed or under financing on this platform (重复融资)`,
    { extra: { duplicateFinancing: true, invoiceNumbers: conflicts.map((c) => c.invoiceNumber) } },
  );
}

/**
 * A supplier asks what it would get for some confirmed invoices on one of its lines. The
 * quote is stored (status quoted) with every part of its arithmetic, valid for an hour.
 */
export async function requestQuote({ ctx, input }: { ctx: Ctx; input: unknown }) {
  requireRole(ctx, ['supplier_user']);
  const data = parseInput(quoteInput, input);
  const line = await loadVisibleLine(ctx, data.creditLineId);
  try {
    return await ctx.db.transaction(async (tx) => {
      const [program] = await tx.select().from(programs).where(eq(programs.id, line.programId));
      assertLineUsable(ctx, line, program!);
      const rows = await tx.select().from(invoices).where(and(inArray(invoices.id, data.invoiceIds), eq(invoices.supplierOrganizationId, line.supplierOrganizationId)));
      const byId = new Map(rows.map((r) => [r.id, r]));
      const errors: FieldError[] = [];
      const day = today(ctx);
      data.invoiceIds.forEach((id, i) => {
        const inv = byId.get(id);
        const path = `body/invoiceIds/${i}`;
        if (!inv) return errors.push({ path, message: 'invoice not found' });
        if (inv.buyerOrganizationId !== program!.coreEnterpriseOrganizationId) return errors.push({ path, message: "the invoice's buyer is not this program's core enterprise" });
        if (inv.confirmationStatus !== 'confirmed') return errors.push({ path, message: `not confirmed by the core enterprise (${inv.confirmationReason ?? inv.confirmationStatus})` });
        if (financeableFaceFen(inv) <= 0n) return errors.push({ path, message: `nothing left to finance (${inv.ledgerStatus ?? 'fully paid or credited'})` });
        if (inv.dueDate <= day) return errors.push({ path, message: `due on ${inv.dueDate}, not after today` });
        return undefined;
      });
      if (errors.length) throw new AppError('unprocessable', 'Some invoices cannot be financed', { errors });
      const held = await heldFingerprints(tx, rows.map((r) => r.fingerprint));
      if (held.length) {
        const set = new Set(held.map((h) => h.fingerprint));
        throw new DuplicateFinancing(rows.filter((r) => set.has(r.fingerprint)).map((r) => ({ invoiceId: r.id, fingerprint: r.fingerprint, invoiceNumber: r.invoiceNumber })));
      }

      // The tenor runs to the earlier of the invoice's and the ledger's due date: the supplier's own date is not proof.
      const ledgerIds = rows.map((r) => r.ledgerEntryId).filter((id): id is string => !!id);
      const ledgerDue = new Map((ledgerIds.length ? await tx.select({ id: ledgerEntries.id, dueDate: ledgerEntries.dueDate }).from(ledgerEntries).where(inArray(ledgerEntries.id, ledgerIds)) : []).map((e) => [e.id, e.dueDate]));
      const dueOf = (r: (typeof rows)[number]) => {
        const ledger = r.ledgerEntryId ? ledgerDue.get(r.ledgerEntryId) : undefined;
        return ledger && ledger < r.dueDate ? ledger : r.dueDate;
      };
      const lineAvailable = lineAvailableFen(line, await reservedFen(tx, { creditLineId: line.id }));
      const programRemaining = programRemainingFen(program!, await reservedFen(tx, { programId: program!.id }));
      const quote = computeQuote(
        rows.map((r) => ({ invoiceId: r.id, amountFen: r.amountFen, creditNoteFen: r.creditNoteFen, paidFen: r.paidFen, dueDate: dueOf(r) })),
        { advanceRateBp: program!.advanceRateBp, annualRateBp: program!.annualRateBp, dayCount: program!.dayCount, maxTenorDays: program!.maxTenorDays, lineAvailableFen: lineAvailable, programRemainingFen: programRemaining, today: day },
      );
      if (quote.principalFen <= 0n) {
        throw new AppError('conflict', `Nothing can be advanced: line available ${formatYuan(lineAvailable)}, program remaining ${formatYuan(programRemaining)}`);
      }
      const now = ctx.clock.now();
      const breakdown = {
        faceValueFen: toApiFen(quote.faceValueFen),
        advanceRateBp: program!.advanceRateBp,
        advanceFen: toApiFen(quote.advanceFen),
        lineAvailableFen: toApiFen(lineAvailable),
        programRemainingFen: toApiFen(programRemaining),
        principalFen: toApiFen(quote.principalFen),
        cappedBy: quote.cappedBy,
        daysToEarliestDue: quote.daysToEarliestDue,
        maxTenorDays: program!.maxTenorDays,
        tenorDays: quote.tenorDays,
        annualRateBp: program!.annualRateBp,
        dayCount: program!.dayCount,
        interestFormula: `${quote.principalFen} × ${program!.annualRateBp} bp × ${quote.tenorDays} days / (10000 × ${program!.dayCount === 'ACT/360' ? 360 : 365}), half-up`,
        interestFen: toApiFen(quote.interestFen),
        totalDueAtMaturityFen: toApiFen(quote.principalFen + quote.interestFen),
      };
      const [request] = await tx
        .insert(financingRequests)
        .values({
          programId: program!.id,
          creditLineId: line.id,
          bankOrganizationId: line.bankOrganizationId,
          supplierOrganizationId: line.supplierOrganizationId,
          status: 'quoted',
          faceValueFen: quote.faceValueFen,
          principalFen: quote.principalFen,
          interestFen: quote.interestFen,
          annualRateBp: program!.annualRateBp,
          advanceRateBp: program!.advanceRateBp,
          dayCount: program!.dayCount,
          tenorDays: quote.tenorDays,
          quotedOn: day,
          maturityDate: quote.maturityDate,
          quoteExpiresAt: new Date(now.getTime() + QUOTE_VALIDITY_MS),
          breakdown,
          createdAt: now,
          updatedAt: now,
        })
        .returning();
      await tx.insert(financedInvoices).values(
        quote.invoices.map((q) => ({
          financingRequestId: request!.id,
          invoiceId: q.invoiceId,
          fingerprint: byId.get(q.invoiceId)!.fingerprint,
          outstandingFaceFen: q.outstandingFaceFen,
          advanceFen: q.advanceFen,
          // Payments made before financing were never lent against: only later ones repay.
          repaidFromLedgerFen: byId.get(q.invoiceId)!.paidFen,
          active: false,
          createdAt: now,
        })),
      );
      await recordAudit(tx, ctx, { organizationId: line.bankOrganizationId, action: 'financing.quoted', subjectType: 'financing_request', subjectId: request!.id, data: { before: null, after: breakdown } });
      return requestView(tx, request!);
    });
  } catch (e) {
    if (e instanceof DuplicateFinancing) {
      await recordDuplicateAttempt(ctx, e.conflicts, line);
      throw duplicateError(ctx, e.conflicts);
    }
    throw e;
  }
}

/**
 * Turns a quote into a request: re-checks it under the line lock, takes the invoices'
 * fingerprints (the unique index makes this the one place a double financing is stopped),
 * and approves automatically when the principal is within the program's threshold.
 */
export async function submitFinancing({ ctx, input }: { ctx: Ctx; input: { financingRequestId: string } }) {
  requireRole(ctx, ['supplier_user']);
  let line: Line | undefined;
  let expired = false;
  try {
    const result = await ctx.db.transaction(async (tx) => {
      const request = await loadVisibleRequest(ctx, input.financingRequestId, tx, true);
      if (request.status === 'quoted' && request.quoteExpiresAt <= ctx.clock.now()) {
        await tx.update(financingRequests).set({ status: 'expired', updatedAt: ctx.clock.now() }).where(eq(financingRequests.id, request.id));
        expired = true;
        return null;
      }
      assertTransition(request.status, 'submitted');
      const locked = await lockLineAndProgram(tx, request.creditLineId);
      line = locked.line;
      assertLineUsable(ctx, locked.line, locked.program);
      const available = lineAvailableFen(locked.line, await reservedFen(tx, { creditLineId: locked.line.id }));
      const remaining = programRemainingFen(locked.program, await reservedFen(tx, { programId: locked.program.id }));
      if (request.principalFen > minFen(available, remaining)) {
        throw new AppError('conflict', `The quote no longer fits: ${formatYuan(minFen(available, remaining))} is available now, the quote asks ${formatYuan(request.principalFen)}; ask for a new quote`);
      }
      const items = await requestInvoices(tx, request.id);
      for (const { fi, invoice } of items) {
        if (invoice.confirmationStatus !== 'confirmed' || financeableFaceFen(invoice) < fi.outstandingFaceFen) {
          throw new AppError('conflict', `Invoice ${invoice.invoiceNumber} changed since the quote (${invoice.confirmationReason ?? invoice.confirmationStatus}); ask for a new quote`);
        }
      }
      const held = await heldFingerprints(tx, items.map((i) => i.fi.fingerprint), request.id);
      if (held.length) {
        const set = new Set(held.map((h) => h.fingerprint));
        throw new DuplicateFinancing(items.filter((i) => set.has(i.fi.fingerprint)).map((i) => ({ invoiceId: i.invoice.id, fingerprint: i.fi.fingerprint, invoiceNumber: i.invoice.invoiceNumber })));
      }
      for (const { fi, invoice } of items) {
        await tx.update(financedInvoices).set({ active: true, repaidFromLedgerFen: invoice.paidFen }).where(eq(financedInvoices.id, fi.id));
      }

      const program = locked.program;
      const withinThreshold = program.autoApprovalThresholdFen > 0n && request.principalFen <= program.autoApprovalThresholdFen;
      // A red signal still open on the line means a person looks at the request, whatever its size.
      const redSignals = withinThreshold ? await openRedSignalsAgainst(tx, locked.line.id) : [];
      const auto = withinThreshold && redSignals.length === 0;
      const status: FinancingStatus = auto ? 'approved' : 'submitted';
      const decisionReason = auto
        ? `principal within the auto-approval threshold of ${formatYuan(program.autoApprovalThresholdFen)}`
        : redSignals.length
          ? `not auto-approved: red signal${redSignals.length === 1 ? '' : 's'} open on the credit line (${redSignals.map((s) => `${s.rule} ${s.id}`).join(', ')}); a credit officer decides`
          : null;
      const [row] = await tx
        .update(financingRequests)
        .set({ status, decidedBy: auto ? 'system:auto-approval' : null, decisionReason, updatedAt: ctx.clock.now() })
        .where(eq(financingRequests.id, request.id))
        .returning();
      await recordAudit(tx, ctx, {
        organizationId: request.bankOrganizationId,
        action: auto ? 'financing.submitted_auto_approved' : 'financing.submitted',
        subjectType: 'financing_request',
        subjectId: request.id,
        data: { before: { status: request.status }, after: { status }, ...(redSignals.length ? { autoApprovalWithheld: { reason: 'open_red_signals', signalIds: redSignals.map((s) => s.id) } } : {}) },
      });
      return requestView(tx, row!);
    });
    if (expired) throw new AppError('conflict', 'The quote has expired; ask for a new one', { extra: { currentStatus: 'expired' } });
    return result!;
  } catch (e) {
    if (e instanceof DuplicateFinancing) {
      await recordDuplicateAttempt(ctx, e.conflicts, line!);
      throw duplicateError(ctx, e.conflicts);
    }
    if (isUniqueViolation(e, 'financed_invoices_active_fingerprint_uq')) {
      throw new AppError('conflict', 'Refused: an invoice in this request was financed elsewhere a moment ago (重复融资)', { extra: { duplicateFinancing: true } });
    }
    throw e;
  }
}

/** The invoices a request finances, each with its financed-invoice row. */
function requestInvoices(tx: DbOrTx, requestId: string) {
  return tx.select({ fi: financedInvoices, invoice: invoices }).from(financedInvoices).innerJoin(invoices, eq(invoices.id, financedInvoices.invoiceId)).where(eq(financedInvoices.financingRequestId, requestId));
}

/** The receivables must still stand when money is promised or paid out (the ledger may have moved since). */
async function assertInvoicesStillStand(tx: DbOrTx, request: Request) {
  const items = await requestInvoices(tx, request.id);
  for (const { fi, invoice } of items) {
    if (invoice.confirmationStatus !== 'confirmed' || financeableFaceFen(invoice) < fi.outstandingFaceFen) {
      throw new AppError('conflict', `Invoice ${invoice.invoiceNumber} no longer stands as quoted (${invoice.confirmationReason ?? invoice.confirmationStatus}); reject the request`, {
        extra: { invoiceId: invoice.id },
      });
    }
  }
}

/** A bank decision on a request: locked, the bank's own, legal from its status, its invoices still standing. */
async function loadForDecision(tx: DbOrTx, ctx: Ctx, financingRequestId: string, to: FinancingStatus) {
  const request = await loadVisibleRequest(ctx, financingRequestId, tx, true);
  requireOwnBank(ctx, request.bankOrganizationId, 'financing request');
  assertTransition(request.status, to);
  if (to === 'approved' || to === 'disbursed') await assertInvoicesStillStand(tx, request);
  return request;
}

/** A credit officer approves a submitted request; the principal is then reserved on the line. */
export async function approveFinancing({ ctx, input }: { ctx: Ctx; input: { financingRequestId: string } & Record<string, unknown> }) {
  requireRole(ctx, ['credit_officer']);
  const data = parseInput(approveInput, input);
  return ctx.db.transaction(async (tx) => {
    const request = await loadForDecision(tx, ctx, input.financingRequestId, 'approved');
    const { line, program } = await lockLineAndProgram(tx, request.creditLineId);
    assertLineUsable(ctx, line, program);
    const available = minFen(lineAvailableFen(line, await reservedFen(tx, { creditLineId: line.id })), programRemainingFen(program, await reservedFen(tx, { programId: program.id })));
    if (request.principalFen > available) {
      throw new AppError('conflict', `Only ${formatYuan(available)} is available on the line and program; the request is for ${formatYuan(request.principalFen)}`);
    }
    const [row] = await tx
      .update(financingRequests)
      .set({ status: 'approved', decidedBy: actorName(ctx), decisionReason: data.reason ?? null, updatedAt: ctx.clock.now() })
      .where(eq(financingRequests.id, request.id))
      .returning();
    await recordAudit(tx, ctx, { organizationId: request.bankOrganizationId, action: 'financing.approved', subjectType: 'financing_request', subjectId: request.id, data: { before: { status: request.status }, after: { status: 'approved' }, reason: data.reason ?? null } });
    return requestView(tx, row!);
  });
}

/** Rejection releases the invoices for another request. */
export async function rejectFinancing({ ctx, input }: { ctx: Ctx; input: { financingRequestId: string } & Record<string, unknown> }) {
  requireRole(ctx, ['credit_officer']);
  const data = parseInput(decisionInput, input);
  return ctx.db.transaction(async (tx) => {
    const request = await loadForDecision(tx, ctx, input.financingRequestId, 'rejected');
    return endUndisbursed(tx, ctx, request, 'rejected', data.reason);
  });
}

/** Rejection or cancellation: the request ends before any money moved, and its invoices are free again. */
async function endUndisbursed(tx: DbOrTx, ctx: Ctx, request: Request, status: 'rejected' | 'cancelled', reason: string) {
  assertTransition(request.status, status);
  await tx.update(financedInvoices).set({ active: false }).where(eq(financedInvoices.financingRequestId, request.id));
  const [row] = await tx
    .update(financingRequests)
    .set({ status, decidedBy: actorName(ctx), decisionReason: reason, updatedAt: ctx.clock.now() })
    .where(eq(financingRequests.id, request.id))
    .returning();
  await recordAudit(tx, ctx, { organizationId: request.bankOrganizationId, action: `financing.${status}`, subjectType: 'financing_request', subjectId: request.id, data: { before: { status: request.status }, after: { status }, reason } });
  return requestView(tx, row!);
}

/**
 * Withdraws a request that will not be disbursed: the supplier before a decision, the
 * bank before disbursement. Its reservation and its invoices are released.
 */
export async function cancelFinancing({ ctx, input }: { ctx: Ctx; input: { financingRequestId: string } & Record<string, unknown> }) {
  requireRole(ctx, ['supplier_user', 'credit_officer']);
  const data = parseInput(decisionInput, input);
  return ctx.db.transaction(async (tx) => {
    const request = await loadVisibleRequest(ctx, input.financingRequestId, tx, true);
    if (ctx.actor.type === 'user' && ctx.actor.role === 'supplier_user' && request.status !== 'submitted') {
      throw new AppError('conflict', `The request is ${request.status}; a supplier can withdraw it only before the bank decides`, { extra: { currentStatus: request.status } });
    }
    if (ctx.actor.type === 'user' && ctx.actor.role === 'credit_officer') requireOwnBank(ctx, request.bankOrganizationId, 'financing request');
    return endUndisbursed(tx, ctx, request, 'cancelled', data.reason);
  });
}

/** 放款: the money goes out; the line's outstanding moves by one drawdown journal entry. */
export async function disburseFinancing({ ctx, input }: { ctx: Ctx; input: { financingRequestId: string } & Record<string, unknown> }) {
  requireRole(ctx, ['credit_officer']);
  const data = parseInput(disburseInput, input);
  return ctx.db.transaction(async (tx) => {
    const request = await loadForDecision(tx, ctx, input.financingRequestId, 'disbursed');
    const valueDate = data.valueDate ?? today(ctx);
    if (valueDate < request.quotedOn || valueDate > today(ctx)) {
      throw new AppError('validation_failed', `valueDate must be between the quote date ${request.quotedOn} and today`, { errors: [{ path: 'body/valueDate', message: 'outside the quote date … today' }] });
    }
    const locked = await lockLineAndProgram(tx, request.creditLineId);
    assertLineUsable(ctx, locked.line, locked.program);
    if (!locked.line.revolving && locked.line.drawnFen + request.principalFen > locked.line.limitFen) {
      throw new AppError('conflict', `A non-revolving line cannot draw past its limit (${formatYuan(locked.line.drawnFen)} of ${formatYuan(locked.line.limitFen)} used)`);
    }
    await postJournalEntry(tx, ctx, locked, { kind: 'drawdown', amountFen: request.principalFen, financingRequestId: request.id, reference: data.reference, valueDate });
    const [row] = await tx
      .update(financingRequests)
      .set({ status: 'disbursed', valueDate, disbursementReference: data.reference, maturityDate: minDate(addDays(valueDate, request.tenorDays), request.maturityDate), updatedAt: ctx.clock.now() })
      .where(eq(financingRequests.id, request.id))
      .returning();
    await recordAudit(tx, ctx, { organizationId: request.bankOrganizationId, action: 'financing.disbursed', subjectType: 'financing_request', subjectId: request.id, data: { before: { status: request.status }, after: { status: 'disbursed', valueDate, reference: data.reference, principalFen: String(request.principalFen) } } });
    return requestView(tx, row!);
  });
}

/** Moves a disbursed request's repaid amount (request row locked by the caller). */
async function repay(tx: DbOrTx, ctx: Ctx, request: Request, amount: Fen, reference: string, valueDate: string) {
  const locked = await lockLineAndProgram(tx, request.creditLineId);
  await postJournalEntry(tx, ctx, locked, { kind: 'repayment', amountFen: -amount, financingRequestId: request.id, reference, valueDate });
  const repaid = request.repaidFen + amount;
  const status: FinancingStatus = repaid === request.principalFen ? 'repaid' : request.status;
  const [row] = await tx.update(financingRequests).set({ repaidFen: repaid, status, updatedAt: ctx.clock.now() }).where(eq(financingRequests.id, request.id)).returning();
  await recordAudit(tx, ctx, {
    organizationId: request.bankOrganizationId,
    action: 'financing.repaid',
    subjectType: 'financing_request',
    subjectId: request.id,
    data: { before: { status: request.status, repaidFen: String(request.repaidFen) }, after: { status, repaidFen: String(repaid) }, amountFen: String(amount), reference },
  });
  return row!;
}

/** A repayment recorded by hand (a transfer that did not come through the ledger). */
export async function recordRepayment({ ctx, input }: { ctx: Ctx; input: { financingRequestId: string } & Record<string, unknown> }) {
  requireRole(ctx, ['credit_officer']);
  const data = parseInput(repaymentInput, input);
  return ctx.db.transaction(async (tx) => {
    const request = await loadVisibleRequest(ctx, input.financingRequestId, tx, true);
    requireOwnBank(ctx, request.bankOrganizationId, 'financing request');
    if (request.status !== 'disbursed' && request.status !== 'overdue') {
      throw new AppError('conflict', `The financing request is ${request.status}; only a disbursed or overdue one can be repaid`, { extra: { currentStatus: request.status } });
    }
    const owed = request.principalFen - request.repaidFen;
    const amount = BigInt(data.amountFen);
    if (amount > owed) throw new AppError('unprocessable', `Only ${formatYuan(owed)} of principal is outstanding; ${formatYuan(amount)} is more`, { errors: [{ path: 'body/amountFen', message: 'more than the outstanding principal' }] });
    return requestView(tx, await repay(tx, ctx, request, amount, data.reference, data.valueDate ?? today(ctx)));
  });
}

/**
 * The core enterprise's ledger shows payments on a financed invoice: apply what is new
 * (never more than the principal still owed). `repaidFromLedgerFen` remembers what was
 * seen, so re-sent ledgers never repay twice. Returns whether a repayment was posted.
 */
export async function applyLedgerPayment(tx: DbOrTx, ctx: Ctx, args: { financedInvoice: typeof financedInvoices.$inferSelect; ledgerPaidFen: Fen; reference: string }) {
  const [request] = await tx.select().from(financingRequests).where(eq(financingRequests.id, args.financedInvoice.financingRequestId)).for('update');
  const [fi] = await tx.select().from(financedInvoices).where(eq(financedInvoices.id, args.financedInvoice.id)).for('update');
  if (!request || !fi || (request.status !== 'disbursed' && request.status !== 'overdue')) return false;
  const delta = args.ledgerPaidFen - fi.repaidFromLedgerFen;
  if (delta <= 0n) return false;
  await tx.update(financedInvoices).set({ repaidFromLedgerFen: args.ledgerPaidFen }).where(eq(financedInvoices.id, fi.id));
  const amount = minFen(delta, request.principalFen - request.repaidFen);
  if (amount <= 0n) return false;
  await repay(tx, ctx, request, amount, args.reference, today(ctx));
  return true;
}

/** Called when a journal entry of a request is reversed (request already locked by the caller). */
export async function revertRequestForReversal(tx: DbOrTx, ctx: Ctx, entry: typeof creditLineJournal.$inferSelect) {
  const [request] = await tx.select().from(financingRequests).where(eq(financingRequests.id, entry.financingRequestId!));
  if (!request) return;
  if (entry.kind === 'drawdown') {
    if (request.repaidFen > 0n) throw new AppError('conflict', 'Reverse the repayments of this request before its disbursement');
    assertTransition(request.status, 'approved');
    await tx.update(financingRequests).set({ status: 'approved', valueDate: null, disbursementReference: null, updatedAt: ctx.clock.now() }).where(eq(financingRequests.id, request.id));
  } else if (entry.kind === 'repayment') {
    const repaid = request.repaidFen + entry.amountFen; // entry.amountFen is negative
    const status: FinancingStatus = request.status === 'repaid' ? 'disbursed' : request.status;
    await tx.update(financingRequests).set({ repaidFen: repaid, status, updatedAt: ctx.clock.now() }).where(eq(financingRequests.id, request.id));
  }
}

/** Locks the request of a journal entry before the line (the lock order every verb keeps). */
export async function lockRequestOf(tx: DbOrTx, financingRequestId: string | null) {
  if (!financingRequestId) return;
  await tx.select({ id: financingRequests.id }).from(financingRequests).where(eq(financingRequests.id, financingRequestId)).for('update');
}

/**
 * The daily financing sweep for a business date: disbursed requests past maturity + grace
 * become overdue, lines past expiry become expired, stale quotes expire. Idempotent.
 */
export async function runDailyFinancingSweep({ ctx, input }: { ctx: Ctx; input: { asOf: string } }) {
  return ctx.db.transaction(async (tx) => {
    const overdue = await tx.execute<{ id: string; bank_organization_id: string }>(sql`
      update financing_requests r set status = 'overdue', updated_at = ${ctx.clock.now().toISOString()}
      from programs p
      where p.id = r.program_id and r.status = 'disbursed' and r.maturity_date + p.grace_days < ${input.asOf}::date
      returning r.id, r.bank_organization_id`);
    for (const r of overdue) {
      await recordAudit(tx, ctx, { organizationId: r.bank_organization_id, action: 'financing.overdue', subjectType: 'financing_request', subjectId: r.id, data: { before: { status: 'disbursed' }, after: { status: 'overdue' }, asOf: input.asOf } });
    }
    const expiredLines = await tx
      .update(creditLines)
      .set({ status: 'expired', updatedAt: ctx.clock.now() })
      .where(and(inArray(creditLines.status, ['active', 'frozen']), lt(creditLines.expiresOn, input.asOf)))
      .returning({ id: creditLines.id, bank: creditLines.bankOrganizationId });
    for (const l of expiredLines) {
      await recordAudit(tx, ctx, { organizationId: l.bank, action: 'credit_line.expired', subjectType: 'credit_line', subjectId: l.id, data: { asOf: input.asOf } });
    }
    const expiredQuotes = await tx
      .update(financingRequests)
      .set({ status: 'expired', updatedAt: ctx.clock.now() })
      .where(and(eq(financingRequests.status, 'quoted'), lt(financingRequests.quoteExpiresAt, ctx.clock.now())))
      .returning({ id: financingRequests.id });
    return { overdue: overdue.length, expiredLines: expiredLines.length, expiredQuotes: expiredQuotes.length };
  });
}

export async function listFinancingRequests({ ctx, input }: { ctx: Ctx; input: Record<string, unknown> }) {
  const q = parseInput(listFinancingInput, input, 'query');
  const where: (SQL | undefined)[] = [afterCursor(financingRequests.createdAt, financingRequests.id, decodeCursor(q.cursor))];
  if (q.status) where.push(eq(financingRequests.status, q.status));
  if (ctx.actor.type === 'user' && !isPlatformWide(ctx.actor)) {
    where.push(or(eq(financingRequests.bankOrganizationId, ctx.actor.organizationId), eq(financingRequests.supplierOrganizationId, ctx.actor.organizationId)));
  }
  const rows = await ctx.db.select().from(financingRequests).where(and(...where)).orderBy(asc(financingRequests.createdAt), asc(financingRequests.id)).limit(q.limit + 1);
  const page = pageOf(rows, q.limit, (r) => r);
  return { items: await Promise.all(page.items.map((r) => requestView(ctx.db, r))), nextCursor: page.nextCursor };
}

export async function getFinancingRequest({ ctx, input }: { ctx: Ctx; input: { financingRequestId: string } }) {
  return requestView(ctx.db, await loadVisibleRequest(ctx, input.financingRequestId));
}

