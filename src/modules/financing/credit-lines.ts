import { and, asc, eq, or, sql, type SQL } from 'drizzle-orm';
import { creditLineJournal, creditLines, organizations } from '../../db/schema';
import { isUniqueViolation } from '../../db/errors';
import { afterCursor, afterSeq, seqPageOf } from '../../db/keyset';
import { type Ctx, isPlatformWide, requireOwnBank, requireRole, today } from '../../lib/context';
import { AppError, conflict, notFound } from '../../lib/errors';
import { formatYuan } from '../../lib/money';
import { decodeCursor, pageOf, pageQuerySchema } from '../../lib/pagination';
import { parseInput } from '../../lib/validation';
import { recordAudit } from '../audit/record-audit';
import { lineAvailableFen, loadVisibleLine, loadVisibleProgram, lockLineAndProgram, reservedFen } from './access';
import { lockRequestOf, revertRequestForReversal } from './financing-requests';
import { postJournalEntry } from './journal';
import { toCreditLine, toJournalEntry } from './mappers';
import { enrolSupplierInput, freezeInput, reverseEntryInput } from './schemas';
import type { DbOrTx } from '../../db/client';

async function lineView(db: DbOrTx, line: typeof creditLines.$inferSelect) {
  const reserved = await reservedFen(db, { creditLineId: line.id });
  return toCreditLine(line, reserved, lineAvailableFen(line, reserved));
}


/** 授信: the bank enrols a supplier in a program with a credit line. */
export async function enrolSupplier({ ctx, input }: { ctx: Ctx; input: { programId: string } & Record<string, unknown> }) {
  requireRole(ctx, ['credit_officer']);
  const data = parseInput(enrolSupplierInput, input);
  try {
    return await ctx.db.transaction(async (tx) => {
      const program = await loadVisibleProgram(ctx, input.programId, tx, true);
      requireOwnBank(ctx, program.bankOrganizationId, 'program');
      if (program.status !== 'active') throw new AppError('conflict', `The program is ${program.status}; suppliers can be enrolled only in an active program`, { extra: { currentStatus: program.status } });
      const [supplier] = await tx.select().from(organizations).where(eq(organizations.id, data.supplierOrganizationId));
      if (!supplier || supplier.kind !== 'supplier') {
        throw new AppError('validation_failed', 'supplierOrganizationId is not a supplier on the platform', { errors: [{ path: 'body/supplierOrganizationId', message: 'no supplier with this id' }] });
      }
      if (data.expiresOn <= today(ctx)) throw new AppError('validation_failed', 'expiresOn must be after today', { errors: [{ path: 'body/expiresOn', message: 'must be in the future' }] });
      if (BigInt(data.limitFen) > program.limitFen) {
        throw new AppError('validation_failed', `A line cannot exceed the program limit of ${formatYuan(program.limitFen)}`, { errors: [{ path: 'body/limitFen', message: 'above the program limit' }] });
      }
      const now = ctx.clock.now();
      const [line] = await tx
        .insert(creditLines)
        .values({
          programId: program.id,
          bankOrganizationId: program.bankOrganizationId,
          supplierOrganizationId: supplier.id,
          limitFen: BigInt(data.limitFen),
          expiresOn: data.expiresOn,
          revolving: data.revolving,
          createdAt: now,
          updatedAt: now,
        })
        .returning();
      const out = await lineView(tx, line!);
      await recordAudit(tx, ctx, { organizationId: program.bankOrganizationId, action: 'credit_line.created', subjectType: 'credit_line', subjectId: line!.id, data: { before: null, after: out } });
      return out;
    });
  } catch (e) {
    if (isUniqueViolation(e, 'credit_lines_program_supplier_uq')) throw conflict('This supplier already has a credit line in this program');
    throw e;
  }
}

export async function listCreditLines({ ctx, input }: { ctx: Ctx; input: Record<string, unknown> }) {
  const q = parseInput(pageQuerySchema, input, 'query');
  const where: (SQL | undefined)[] = [afterCursor(creditLines.createdAt, creditLines.id, decodeCursor(q.cursor))];
  if (ctx.actor.type === 'user' && !isPlatformWide(ctx.actor)) {
    where.push(or(eq(creditLines.bankOrganizationId, ctx.actor.organizationId), eq(creditLines.supplierOrganizationId, ctx.actor.organizationId)));
  }
  if (typeof input.programId === 'string') where.push(eq(creditLines.programId, input.programId));
  const rows = await ctx.db.select().from(creditLines).where(and(...where)).orderBy(asc(creditLines.createdAt), asc(creditLines.id)).limit(q.limit + 1);
  const page = pageOf(rows, q.limit, (r) => r);
  return { items: await Promise.all(page.items.map((l) => lineView(ctx.db, l))), nextCursor: page.nextCursor };
}

export async function getCreditLine({ ctx, input }: { ctx: Ctx; input: { creditLineId: string } }) {
  return lineView(ctx.db, await loadVisibleLine(ctx, input.creditLineId));
}

export async function listJournal({ ctx, input }: { ctx: Ctx; input: { creditLineId: string } & Record<string, unknown> }) {
  const q = parseInput(pageQuerySchema, input, 'query');
  const line = await loadVisibleLine(ctx, input.creditLineId);
  const rows = await ctx.db
    .select()
    .from(creditLineJournal)
    .where(and(eq(creditLineJournal.creditLineId, line.id), afterSeq(creditLineJournal.seq, q.cursor)))
    .orderBy(asc(creditLineJournal.seq))
    .limit(q.limit + 1);
  return seqPageOf(rows, q.limit, toJournalEntry);
}

/** A frozen line takes no new drawdowns. Risk or credit officers freeze; only credit officers unfreeze. */
export async function freezeCreditLine({ ctx, input }: { ctx: Ctx; input: { creditLineId: string } & Record<string, unknown> }) {
  requireRole(ctx, ['risk_officer', 'credit_officer']);
  const data = parseInput(freezeInput, input);
  return changeLineStatus(ctx, input.creditLineId, 'active', 'frozen', data.reason);
}

export async function unfreezeCreditLine({ ctx, input }: { ctx: Ctx; input: { creditLineId: string } & Record<string, unknown> }) {
  requireRole(ctx, ['credit_officer']);
  const data = parseInput(freezeInput, input);
  return changeLineStatus(ctx, input.creditLineId, 'frozen', 'active', data.reason);
}

async function changeLineStatus(ctx: Ctx, lineId: string, from: 'active' | 'frozen', to: 'active' | 'frozen', reason: string) {
  return ctx.db.transaction(async (tx) => {
    await loadVisibleLine(ctx, lineId, tx);
    const { line } = await lockLineAndProgram(tx, lineId);
    requireOwnBank(ctx, line.bankOrganizationId, 'credit line');
    if (line.status !== from) throw new AppError('conflict', `The credit line is ${line.status}; it cannot become ${to}`, { extra: { currentStatus: line.status } });
    const [row] = await tx
      .update(creditLines)
      .set({ status: to, frozenReason: to === 'frozen' ? reason : null, updatedAt: ctx.clock.now() })
      .where(eq(creditLines.id, line.id))
      .returning();
    await recordAudit(tx, ctx, {
      organizationId: line.bankOrganizationId,
      action: to === 'frozen' ? 'credit_line.frozen' : 'credit_line.unfrozen',
      subjectType: 'credit_line',
      subjectId: line.id,
      data: { before: { status: from }, after: { status: to }, reason },
    });
    return lineView(tx, row!);
  });
}

/**
 * Reverses a journal entry (a disbursement that bounced, a repayment booked in error) with
 * an equal and opposite entry; the financing request moves back accordingly.
 */
export async function reverseJournalEntry({ ctx, input }: { ctx: Ctx; input: { creditLineId: string; entryId: string } & Record<string, unknown> }) {
  requireRole(ctx, ['credit_officer']);
  const data = parseInput(reverseEntryInput, input);
  try {
    return await ctx.db.transaction(async (tx) => {
      const visible = await loadVisibleLine(ctx, input.creditLineId, tx);
      requireOwnBank(ctx, visible.bankOrganizationId, 'credit line');
      const [entry] = await tx.select().from(creditLineJournal).where(and(eq(creditLineJournal.id, input.entryId), eq(creditLineJournal.creditLineId, visible.id)));
      if (!entry) throw notFound('Journal entry');
      await lockRequestOf(tx, entry.financingRequestId);
      const locked = await lockLineAndProgram(tx, visible.id);
      if (entry.kind === 'reversal') throw new AppError('conflict', 'A reversal cannot itself be reversed; post a new entry instead');
      const [already] = await tx.select().from(creditLineJournal).where(eq(creditLineJournal.reversesEntryId, entry.id));
      if (already) throw new AppError('conflict', 'This entry has already been reversed', { extra: { reversalEntryId: already.id } });
      if (entry.financingRequestId) await revertRequestForReversal(tx, ctx, entry);
      const reversal = await postJournalEntry(tx, ctx, locked, {
        kind: 'reversal',
        amountFen: -entry.amountFen,
        financingRequestId: entry.financingRequestId,
        reversesEntryId: entry.id,
        reversesKind: entry.kind,
        reference: data.reason,
        valueDate: today(ctx),
      });
      await recordAudit(tx, ctx, {
        organizationId: locked.line.bankOrganizationId,
        action: 'credit_line.entry_reversed',
        subjectType: 'credit_line',
        subjectId: locked.line.id,
        data: { before: toJournalEntry(entry), after: toJournalEntry(reversal), reason: data.reason },
      });
      return toJournalEntry(reversal);
    });
  } catch (e) {
    if (isUniqueViolation(e, 'credit_line_journal_reversal_uq')) throw new AppError('conflict', 'This entry has already been reversed');
    throw e;
  }
}

/**
 * Checks, for every line the caller may see, that the cached outstanding equals the sum of
 * its journal, and reports any difference (it should never find one).
 */
export async function reconcileCreditLines({ ctx }: { ctx: Ctx }) {
  if (ctx.actor.type === 'user') requireRole(ctx, ['credit_officer', 'risk_officer', 'platform_admin']);
  const scope = ctx.actor.type === 'user' && !isPlatformWide(ctx.actor) ? sql`where l.bank_organization_id = ${ctx.actor.organizationId}` : sql``;
  const rows = await ctx.db.execute<{ id: string; cached: string; journal: string }>(sql`
    select l.id, l.outstanding_fen::text as cached, coalesce(sum(j.amount_fen), 0)::text as journal
    from credit_lines l left join credit_line_journal j on j.credit_line_id = l.id
    ${scope}
    group by l.id, l.outstanding_fen`);
  const mismatches = [...rows]
    .filter((r) => r.cached !== r.journal)
    .map((r) => ({ creditLineId: r.id, cachedOutstandingFen: Number(r.cached), journalSumFen: Number(r.journal), differenceFen: Number(BigInt(r.cached) - BigInt(r.journal)) }));
  return { checkedLines: [...rows].length, mismatches };
}
