import { randomBytes, randomUUID } from 'node:crypto';
import { and, asc, eq, inArray, type SQL } from 'drizzle-orm';
import { collateralTerms, creditLines, financingEvents, pledgeLots, pledges, pledgeTags, releaseOrders, skus, warehouses } from '../../db/schema';
import type { DbOrTx } from '../../db/client';
import { isUniqueViolation } from '../../db/errors';
import { afterCursor } from '../../db/keyset';
import { type Ctx, requireRole, today } from '../../lib/context';
import { AppError, type FieldError } from '../../lib/errors';
import { decodeCursor, pageOf } from '../../lib/pagination';
import { parseInput } from '../../lib/validation';
import { recordAudit } from '../audit/record-audit';
import { loadVisibleLine } from '../financing/access';
import { loadVisiblePledge, pledgeScope, requireOwnBank } from './access';
import { type Pledge, type PledgeLotView, toPledge } from './mappers';
import { createPledgeInput, listPledgesInput, reasonInput } from './schemas';

/** The lots of some pledges, in lot-code order, keyed by pledge. */
async function lotsOf(db: DbOrTx, pledgeIds: string[]): Promise<Map<string, PledgeLotView[]>> {
  const out = new Map<string, PledgeLotView[]>(pledgeIds.map((id) => [id, []]));
  if (pledgeIds.length === 0) return out;
  const rows = await db
    .select({ pledgeId: pledgeLots.pledgeId, lotCode: pledgeLots.lotCode, skuCode: skus.code, quantity: pledgeLots.pledgedQuantity, zone: pledgeLots.zone, tagIds: pledgeLots.tagIds, active: pledgeLots.active })
    .from(pledgeLots)
    .innerJoin(skus, eq(skus.id, pledgeLots.skuId))
    .where(inArray(pledgeLots.pledgeId, pledgeIds))
    .orderBy(asc(pledgeLots.lotCode), asc(pledgeLots.id));
  for (const { pledgeId, ...lot } of rows) out.get(pledgeId)!.push(lot);
  return out;
}

export async function pledgeView(db: DbOrTx, p: Pledge) {
  return toPledge(p, (await lotsOf(db, [p.id])).get(p.id)!);
}

interface PledgeConflict {
  kind: 'lot' | 'tag';
  code: string;
  pledgeReference: string;
  bankOrganizationId: string;
}

/** Active pledges already holding any of these lots (in this warehouse) or tags (anywhere). */
async function findConflicts(db: DbOrTx, warehouseId: string, lotCodes: string[], tagIds: string[]): Promise<PledgeConflict[]> {
  const lots = await db
    .select({ code: pledgeLots.lotCode, pledgeReference: pledges.reference, bankOrganizationId: pledges.bankOrganizationId })
    .from(pledgeLots)
    .innerJoin(pledges, eq(pledges.id, pledgeLots.pledgeId))
    .where(and(eq(pledgeLots.warehouseId, warehouseId), eq(pledgeLots.active, true), inArray(pledgeLots.lotCode, lotCodes)));
  const tags = tagIds.length
    ? await db
        .select({ code: pledgeTags.tagId, pledgeReference: pledges.reference, bankOrganizationId: pledges.bankOrganizationId })
        .from(pledgeTags)
        .innerJoin(pledgeLots, eq(pledgeLots.id, pledgeTags.pledgeLotId))
        .innerJoin(pledges, eq(pledges.id, pledgeLots.pledgeId))
        .where(and(eq(pledgeTags.active, true), inArray(pledgeTags.tagId, tagIds)))
    : [];
  return [...lots.map((c) => ({ ...c, kind: 'lot' as const })), ...tags.map((c) => ({ ...c, kind: 'tag' as const }))].sort((a, b) => a.kind.localeCompare(b.kind) || a.code.localeCompare(b.code));
}

/**
 * 权属不清: goods already pledged cannot be pledged again. The conflicting pledge's reference
 * is shown only to the bank that holds it; anyone else learns just "already pledged" —
 * never whose, never which pledge.
 */
function alreadyPledged(ctx: Ctx, conflicts: PledgeConflict[]): AppError {
  const own = (c: PledgeConflict) => ctx.actor.type === 'system' || (ctx.actor.type === 'user' && ctx.actor.organizationId === c.bankOrganizationId);
  const describe = (c: PledgeConflict) => `${c.kind === 'lot' ? 'lot' : 'tag'} ${c.code} is already pledged${own(c) ? ` under ${c.pledgeReference}` : ''}`;
  const detail = conflicts.length ? `Already pledged (权属不清): ${conflicts.map(describe).join('; ')}` : 'Already pledged (权属不清): a lot or tag of this pledge is held by another active pledge';
  return new AppError('conflict', detail, {
    extra: {
      conflicts: conflicts.map((c) => ({ ...(c.kind === 'lot' ? { lotCode: c.code } : { tagId: c.code }), ...(own(c) ? { pledgeReference: c.pledgeReference } : {}) })),
    },
  });
}

const newReference = (ctx: Ctx) => `PLG-${today(ctx).replaceAll('-', '')}-${randomBytes(4).toString('hex').toUpperCase()}`;

/**
 * 动产质押: the bank's credit officer books the supplier's goods in a supervised warehouse
 * as collateral for the supplier's credit line. A lot (per warehouse) and a tag (anywhere)
 * are pledged once at a time; the partial unique indexes keep that true under concurrency.
 */
export async function createPledge({ ctx, input }: { ctx: Ctx; input: unknown }) {
  requireRole(ctx, ['credit_officer']);
  const data = parseInput(createPledgeInput, input);
  // Rows go in sorted order so two overlapping pledges wait on each other in one order:
  // one of them wins, the other gets the conflict — never a deadlock.
  const lots = [...data.lots].sort((a, b) => a.lotCode.localeCompare(b.lotCode));
  const lotCodes = lots.map((l) => l.lotCode);
  const tagIds = lots.flatMap((l) => l.tagIds).sort();
  try {
    return await ctx.db.transaction(async (tx) => {
      const line = await loadVisibleLine(ctx, data.creditLineId, tx);
      requireOwnBank(ctx, line.bankOrganizationId, 'credit line');
      if (line.status === 'closed') throw new AppError('conflict', 'The credit line is closed', { extra: { creditLineStatus: line.status } });
      const [terms] = await tx.select().from(collateralTerms).where(eq(collateralTerms.programId, line.programId));
      if (!terms) throw new AppError('conflict', "The program has no collateral terms yet; set its warning and liquidation lines (PUT /v1/programs/{programId}/collateral-terms) before taking collateral", { extra: { programId: line.programId } });
      // A share lock: the operator cannot drop a zone while a pledge into it is being booked.
      const [warehouse] = await tx.select().from(warehouses).where(eq(warehouses.id, data.warehouseId)).for('share');
      const skuRows = await tx.select().from(skus).where(inArray(skus.code, [...new Set(lots.map((l) => l.skuCode))]));
      const skuByCode = new Map(skuRows.map((s) => [s.code, s]));
      const errors: FieldError[] = [];
      if (!warehouse) errors.push({ path: 'body/warehouseId', message: 'no warehouse with this id' });
      data.lots.forEach((lot, i) => {
        if (!skuByCode.has(lot.skuCode)) errors.push({ path: `body/lots/${i}/skuCode`, message: `no SKU with code ${lot.skuCode}` });
        if (warehouse && !warehouse.zones.includes(lot.zone)) errors.push({ path: `body/lots/${i}/zone`, message: `not a zone of this warehouse (${warehouse.zones.join(', ')})` });
      });
      if (errors.length) throw new AppError('validation_failed', errors.map((e) => `${e.path}: ${e.message}`).join('; '), { errors });

      const conflicts = await findConflicts(tx, warehouse!.id, lotCodes, tagIds);
      if (conflicts.length) throw alreadyPledged(ctx, conflicts);

      const [pledge] = await tx
        .insert(pledges)
        .values({ reference: newReference(ctx), bankOrganizationId: line.bankOrganizationId, supplierOrganizationId: line.supplierOrganizationId, creditLineId: line.id, warehouseId: warehouse!.id, createdAt: ctx.clock.now() })
        .returning();
      const inserted = await tx
        .insert(pledgeLots)
        .values(lots.map((l) => ({ pledgeId: pledge!.id, warehouseId: warehouse!.id, lotCode: l.lotCode, skuId: skuByCode.get(l.skuCode)!.id, zone: l.zone, tagIds: l.tagIds, pledgedQuantity: l.quantity })))
        .returning({ id: pledgeLots.id, lotCode: pledgeLots.lotCode });
      const lotIdByCode = new Map(inserted.map((r) => [r.lotCode, r.id]));
      const tagRows = lots.flatMap((l) => l.tagIds.map((tagId) => ({ tagId, pledgeLotId: lotIdByCode.get(l.lotCode)! }))).sort((a, b) => a.tagId.localeCompare(b.tagId));
      if (tagRows.length) await tx.insert(pledgeTags).values(tagRows);
      const out = await pledgeView(tx, pledge!);
      await recordAudit(tx, ctx, { organizationId: line.bankOrganizationId, action: 'pledge.created', subjectType: 'pledge', subjectId: pledge!.id, data: { before: null, after: out } });
      return out;
    });
  } catch (e) {
    // Lost a race: the winner has committed by now, so its pledge can be named (to its bank).
    const refusal = isUniqueViolation(e, 'pledge_lots_active_lot_uq') || isUniqueViolation(e, 'pledge_tags_active_uq') ? alreadyPledged(ctx, await findConflicts(ctx.db, data.warehouseId, lotCodes, tagIds)) : e;
    if (refusal instanceof AppError && refusal.extra?.conflicts) await recordDoublePledgeAttempt(ctx, data.creditLineId, data.warehouseId, lotCodes, tagIds);
    throw refusal;
  }
}

/**
 * Stores a refused double-pledge attempt (重复质押) for the repeated-refusals rule, in its own
 * statement: the refusal rolled the pledge back. Only goods held under another bank count — a
 * bank re-sending its own pledge is not the supplier trying twice. Recording never turns the
 * refusal into another error.
 */
async function recordDoublePledgeAttempt(ctx: Ctx, creditLineId: string, warehouseId: string, lotCodes: string[], tagIds: string[]) {
  try {
    const [line] = await ctx.db.select().from(creditLines).where(eq(creditLines.id, creditLineId));
    if (!line) return;
    const elsewhere = (await findConflicts(ctx.db, warehouseId, lotCodes, tagIds)).filter((c) => c.bankOrganizationId !== line.bankOrganizationId);
    if (!elsewhere.length) return;
    await ctx.db.insert(financingEvents).values({
      type: 'double_pledge_refused',
      bankOrganizationId: line.bankOrganizationId,
      supplierOrganizationId: line.supplierOrganizationId,
      subjectType: 'credit_line',
      subjectId: line.id,
      // Which goods, not whose: the other bank's pledge reference stays with that bank.
      data: { creditLineId: line.id, warehouseId, conflicts: elsewhere.map((c) => ({ kind: c.kind, code: c.code })), requestId: ctx.requestId },
      dedupeKey: `double_pledge:${randomUUID()}`,
      occurredAt: ctx.clock.now(),
    });
  } catch (e) {
    ctx.log.error({ err: e, creditLineId }, 'could not record a refused double-pledge attempt');
  }
}

export async function listPledges({ ctx, input }: { ctx: Ctx; input: unknown }) {
  const q = parseInput(listPledgesInput, input, 'query');
  const where: (SQL | undefined)[] = [afterCursor(pledges.createdAt, pledges.id, decodeCursor(q.cursor)), pledgeScope(ctx.actor)];
  if (q.creditLineId) where.push(eq(pledges.creditLineId, q.creditLineId));
  if (q.warehouseId) where.push(eq(pledges.warehouseId, q.warehouseId));
  if (q.status) where.push(eq(pledges.status, q.status));
  const rows = await ctx.db.select().from(pledges).where(and(...where)).orderBy(asc(pledges.createdAt), asc(pledges.id)).limit(q.limit + 1);
  const page = pageOf(rows, q.limit, (r) => r);
  const lots = await lotsOf(ctx.db, page.items.map((p) => p.id));
  return { items: page.items.map((p) => toPledge(p, lots.get(p.id)!)), nextCursor: page.nextCursor };
}

export async function getPledge({ ctx, input }: { ctx: Ctx; input: { pledgeId: string } }) {
  return pledgeView(ctx.db, await loadVisiblePledge(ctx, input.pledgeId));
}

/**
 * Releases the whole pledge (解除质押), e.g. once the line is repaid: its lots and tags are
 * free to be pledged again and its open release orders lapse.
 */
export async function releasePledge({ ctx, input }: { ctx: Ctx; input: { pledgeId: string } & Record<string, unknown> }) {
  requireRole(ctx, ['credit_officer']);
  const data = parseInput(reasonInput, input);
  return ctx.db.transaction(async (tx) => {
    const pledge = await loadVisiblePledge(ctx, input.pledgeId, tx, true);
    requireOwnBank(ctx, pledge.bankOrganizationId, 'pledge');
    if (pledge.status !== 'active') throw new AppError('conflict', `The pledge is already ${pledge.status}`, { extra: { currentStatus: pledge.status } });
    const [row] = await tx.update(pledges).set({ status: 'released', releasedAt: ctx.clock.now() }).where(eq(pledges.id, pledge.id)).returning();
    const lotIds = tx.select({ id: pledgeLots.id }).from(pledgeLots).where(eq(pledgeLots.pledgeId, pledge.id));
    await tx.update(pledgeTags).set({ active: false }).where(and(inArray(pledgeTags.pledgeLotId, lotIds), eq(pledgeTags.active, true)));
    await tx.update(pledgeLots).set({ active: false }).where(eq(pledgeLots.pledgeId, pledge.id));
    const lapsed = await tx
      .update(releaseOrders)
      .set({ status: 'cancelled' })
      .where(and(eq(releaseOrders.pledgeId, pledge.id), eq(releaseOrders.status, 'open')))
      .returning({ id: releaseOrders.id });
    const out = await pledgeView(tx, row!);
    await recordAudit(tx, ctx, {
      organizationId: pledge.bankOrganizationId,
      action: 'pledge.released',
      subjectType: 'pledge',
      subjectId: pledge.id,
      data: { before: { status: pledge.status }, after: { status: 'released' }, reason: data.reason, cancelledReleaseOrders: lapsed.map((r) => r.id) },
    });
    return out;
  });
}
