import { and, eq, inArray, sql } from 'drizzle-orm';
import { creditLines, financedInvoices, financingRequests, invoices, programs } from '../../db/schema';
import type { DbOrTx } from '../../db/client';
import { type Actor, type Ctx, isPlatformWide } from '../../lib/context';
import { notFound } from '../../lib/errors';
import { maxFen, type Fen } from '../../lib/money';

type Program = typeof programs.$inferSelect;
type Line = typeof creditLines.$inferSelect;
type Request = typeof financingRequests.$inferSelect;
type Invoice = typeof invoices.$inferSelect;

const orgOf = (actor: Actor) => (actor.type === 'user' ? actor.organizationId : null);

/** A program is seen by its bank and its core enterprise. */
export const programVisible = (actor: Actor, p: Program) => isPlatformWide(actor) || [p.bankOrganizationId, p.coreEnterpriseOrganizationId].includes(orgOf(actor)!);
/** A credit line, and a financing request, by the bank and the supplier. */
export const lineVisible = (actor: Actor, l: Line | Request) => isPlatformWide(actor) || [l.bankOrganizationId, l.supplierOrganizationId].includes(orgOf(actor)!);

export async function loadVisibleProgram(ctx: Ctx, id: string, db: DbOrTx = ctx.db, lock = false) {
  const q = db.select().from(programs).where(eq(programs.id, id));
  const [row] = lock ? await q.for('update') : await q;
  if (!row || !programVisible(ctx.actor, row)) throw notFound('Program');
  return row;
}

export async function loadVisibleLine(ctx: Ctx, id: string, db: DbOrTx = ctx.db) {
  const [row] = await db.select().from(creditLines).where(eq(creditLines.id, id));
  if (!row || !lineVisible(ctx.actor, row)) throw notFound('Credit line');
  return row;
}

export async function loadVisibleRequest(ctx: Ctx, id: string, db: DbOrTx = ctx.db, lock = false) {
  const q = db.select().from(financingRequests).where(eq(financingRequests.id, id));
  const [row] = lock ? await q.for('update') : await q;
  if (!row || !lineVisible(ctx.actor, row)) throw notFound('Financing request');
  return row;
}

/** An invoice is seen by its supplier, its buyer, and banks whose requests include it. */
export async function invoiceVisible(db: DbOrTx, actor: Actor, invoice: Invoice): Promise<boolean> {
  if (isPlatformWide(actor)) return true;
  const org = orgOf(actor)!;
  if (invoice.supplierOrganizationId === org || invoice.buyerOrganizationId === org) return true;
  if (actor.type !== 'user' || actor.organizationKind !== 'bank') return false;
  const [hit] = await db
    .select({ one: sql`1` })
    .from(financedInvoices)
    .innerJoin(financingRequests, eq(financingRequests.id, financedInvoices.financingRequestId))
    .where(and(eq(financedInvoices.invoiceId, invoice.id), eq(financedInvoices.active, true), eq(financingRequests.bankOrganizationId, org)))
    .limit(1);
  return !!hit;
}

export async function loadVisibleInvoice(ctx: Ctx, id: string, db: DbOrTx = ctx.db, lock = false) {
  const q = db.select().from(invoices).where(eq(invoices.id, id));
  const [row] = lock ? await q.for('update') : await q;
  if (!row || !(await invoiceVisible(db, ctx.actor, row))) throw notFound('Invoice');
  return row;
}

/**
 * Locks a line's program, then the line (callers check visibility first) — always in that order, so concurrent verbs on
 * one program never deadlock. Every change of outstanding happens under these locks.
 */
export async function lockLineAndProgram(tx: DbOrTx, lineId: string) {
  const [line0] = await tx.select({ programId: creditLines.programId }).from(creditLines).where(eq(creditLines.id, lineId));
  if (!line0) throw notFound('Credit line');
  const [program] = await tx.select().from(programs).where(eq(programs.id, line0.programId)).for('update');
  const [line] = await tx.select().from(creditLines).where(eq(creditLines.id, lineId)).for('update');
  return { program: program!, line: line! };
}

/** Principal of approved, not yet disbursed requests: promised, so not available again. */
export async function reservedFen(db: DbOrTx, by: { creditLineId: string } | { programId: string }): Promise<Fen> {
  const where = 'creditLineId' in by ? eq(financingRequests.creditLineId, by.creditLineId) : eq(financingRequests.programId, by.programId);
  const [row] = await db
    .select({ total: sql<string>`coalesce(sum(${financingRequests.principalFen}), 0)::text` })
    .from(financingRequests)
    .where(and(where, inArray(financingRequests.status, ['approved'])));
  return BigInt(row?.total ?? '0');
}

export function lineAvailableFen(line: Line, reserved: Fen): Fen {
  const used = line.revolving ? line.outstandingFen : line.drawnFen;
  return maxFen(0n, line.limitFen - used - reserved);
}

export function programRemainingFen(program: Program, reserved: Fen): Fen {
  return maxFen(0n, program.limitFen - program.outstandingFen - reserved);
}
