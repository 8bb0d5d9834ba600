import { releaseBlockedBy } from '../warnings/signals';
import { and, asc, eq, sql } from 'drizzle-orm';
import { pledgeLots, pledges, releaseOrders } from '../../db/schema';
import type { DbOrTx } from '../../db/client';
import { afterCursor } from '../../db/keyset';
import { type Ctx, requireRole } from '../../lib/context';
import { AppError, notFound } from '../../lib/errors';
import { decodeCursor, pageOf, pageQuerySchema } from '../../lib/pagination';
import { parseInput } from '../../lib/validation';
import { recordAudit } from '../audit/record-audit';
import { actorName, loadVisiblePledge, pledgeScope, requireOwnBank } from './access';
import { releaseOrderStatus, toReleaseOrder } from './mappers';
import { createReleaseOrderInput, reasonInput } from './schemas';

/**
 * 放货指令: the bank lets a quantity of one pledged lot leave within a window. What all of a
 * lot's orders may still let out never exceeds what is booked: pledged − already released
 * − what open, unexpired orders still allow.
 */
export async function createReleaseOrder({ ctx, input }: { ctx: Ctx; input: { pledgeId: string } & Record<string, unknown> }) {
  requireRole(ctx, ['credit_officer']);
  const data = parseInput(createReleaseOrderInput, input);
  const validFrom = new Date(data.validFrom);
  const validTo = new Date(data.validTo);
  const now = ctx.clock.now();
  if (validTo.getTime() <= now.getTime()) {
    throw new AppError('validation_failed', 'body/validTo: must be in the future', { errors: [{ path: 'body/validTo', message: 'must be in the future' }] });
  }
  return ctx.db.transaction(async (tx) => {
    // The pledge row lock serializes release orders (and a release of the pledge) per pledge.
    const pledge = await loadVisiblePledge(ctx, input.pledgeId, tx, true);
    requireOwnBank(ctx, pledge.bankOrganizationId, 'pledge');
    if (pledge.status !== 'active') throw new AppError('conflict', `The pledge is ${pledge.status}; nothing is left to release`, { extra: { currentStatus: pledge.status } });
    await refuseWhileRed(tx, pledge);
    const [lot] = await tx.select().from(pledgeLots).where(and(eq(pledgeLots.pledgeId, pledge.id), eq(pledgeLots.lotCode, data.lotCode), eq(pledgeLots.active, true)));
    if (!lot) throw new AppError('validation_failed', `body/lotCode: ${data.lotCode} is not a lot of this pledge`, { errors: [{ path: 'body/lotCode', message: 'not a lot of this pledge' }] });
    const [usage] = await tx
      .select({
        released: sql<string>`coalesce(sum(${releaseOrders.releasedQuantity}), 0)::text`,
        held: sql<string>`coalesce(sum(${releaseOrders.quantity} - ${releaseOrders.releasedQuantity}) filter (where ${releaseOrders.status} = 'open' and ${releaseOrders.validTo} > ${now.toISOString()}::timestamptz), 0)::text`,
      })
      .from(releaseOrders)
      .where(and(eq(releaseOrders.pledgeId, pledge.id), eq(releaseOrders.lotCode, lot.lotCode)));
    const releasable = BigInt(lot.pledgedQuantity) - BigInt(usage!.released) - BigInt(usage!.held);
    if (BigInt(data.quantity) > releasable) {
      throw new AppError('unprocessable', `Lot ${lot.lotCode} has ${releasable < 0n ? 0n : releasable} left to release (pledged ${lot.pledgedQuantity}, released ${usage!.released}, held by open orders ${usage!.held})`, {
        errors: [{ path: 'body/quantity', message: 'more than the lot has left to release' }],
        extra: { releasableQuantity: Number(releasable < 0n ? 0n : releasable) },
      });
    }
    const [row] = await tx
      .insert(releaseOrders)
      .values({ pledgeId: pledge.id, lotCode: lot.lotCode, quantity: data.quantity, validFrom, validTo, createdAt: now, createdBy: actorName(ctx) })
      .returning();
    const out = toReleaseOrder(row!, pledge.reference, now);
    await recordAudit(tx, ctx, { organizationId: pledge.bankOrganizationId, action: 'release_order.created', subjectType: 'release_order', subjectId: row!.id, data: { before: null, after: out } });
    return out;
  });
}

/**
 * When the program's policy blocks releases on red (blockReleaseOnRed), no goods are let out
 * while a red signal is open or acknowledged against its credit line (see openRedSignalsAgainst); resolving
 * (or marking false positive) the signal lifts the block.
 */
async function refuseWhileRed(tx: DbOrTx, pledge: typeof pledges.$inferSelect) {
  const blocking = await releaseBlockedBy(tx, pledge);
  if (!blocking.length) return;
  const signalIds = blocking.map((s) => s.id);
  throw new AppError(
    'conflict',
    `Release orders are blocked while red signals are open against this pledge's credit line (${blocking.map((s) => `${s.rule} ${s.id}`).join(', ')}); the program's policy blocks releases on red until they are resolved`,
    { extra: { signalIds } },
  );
}

export async function listReleaseOrders({ ctx, input }: { ctx: Ctx; input: { pledgeId: string } & Record<string, unknown> }) {
  const q = parseInput(pageQuerySchema, input, 'query');
  const pledge = await loadVisiblePledge(ctx, input.pledgeId);
  const rows = await ctx.db
    .select()
    .from(releaseOrders)
    .where(and(eq(releaseOrders.pledgeId, pledge.id), afterCursor(releaseOrders.createdAt, releaseOrders.id, decodeCursor(q.cursor))))
    .orderBy(asc(releaseOrders.createdAt), asc(releaseOrders.id))
    .limit(q.limit + 1);
  const now = ctx.clock.now();
  return pageOf(rows, q.limit, (r) => toReleaseOrder(r, pledge.reference, now));
}

/** A release order is seen by whoever sees its pledge. */
async function loadVisibleReleaseOrder(ctx: Ctx, id: string, db: DbOrTx = ctx.db, lock = false) {
  const q = db
    .select({ order: releaseOrders, pledge: pledges })
    .from(releaseOrders)
    .innerJoin(pledges, eq(pledges.id, releaseOrders.pledgeId))
    .where(and(eq(releaseOrders.id, id), pledgeScope(ctx.actor)));
  const [row] = lock ? await q.for('update', { of: releaseOrders }) : await q;
  if (!row) throw notFound('Release order');
  return row;
}

export async function getReleaseOrder({ ctx, input }: { ctx: Ctx; input: { releaseOrderId: string } }) {
  const { order, pledge } = await loadVisibleReleaseOrder(ctx, input.releaseOrderId);
  return toReleaseOrder(order, pledge.reference, ctx.clock.now());
}

/** Withdraws what an open order still allows; what already left stays released. */
export async function cancelReleaseOrder({ ctx, input }: { ctx: Ctx; input: { releaseOrderId: string } & Record<string, unknown> }) {
  requireRole(ctx, ['credit_officer']);
  const data = parseInput(reasonInput, input);
  return ctx.db.transaction(async (tx) => {
    const { order, pledge } = await loadVisibleReleaseOrder(ctx, input.releaseOrderId, tx, true);
    requireOwnBank(ctx, pledge.bankOrganizationId, 'release order');
    const now = ctx.clock.now();
    const status = releaseOrderStatus(order, now);
    if (status !== 'open') throw new AppError('conflict', `The release order is ${status}`, { extra: { currentStatus: status } });
    const [row] = await tx
      .update(releaseOrders)
      .set({ status: 'cancelled' })
      .where(eq(releaseOrders.id, order.id))
      .returning();
    const out = toReleaseOrder(row!, pledge.reference, now);
    await recordAudit(tx, ctx, {
      organizationId: pledge.bankOrganizationId,
      action: 'release_order.cancelled',
      subjectType: 'release_order',
      subjectId: order.id,
      data: { before: { status }, after: { status: 'cancelled', releasedQuantity: row!.releasedQuantity }, reason: data.reason },
    });
    return out;
  });
}
