import { and, desc, eq, lt, lte, or, type SQL } from 'drizzle-orm';
import { z } from '@hono/zod-openapi';
import { pledgeLots, telemetryEvents, warehouses } from '../../db/schema';
import { type Ctx, isPlatformWide } from '../../lib/context';
import { AppError, notFound } from '../../lib/errors';
import { pageSchema } from '../../lib/pagination';
import { parseInput } from '../../lib/validation';
import { loadVisiblePledge } from './access';

export const listMovementsInput = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().regex(/^\d+_[0-9a-f-]{36}_\d+$/, 'not a cursor this API issued').optional().openapi({ description: 'nextCursor of the previous page' }),
  lotCode: z.string().max(64).optional(),
});
export const movementOutput = z
  .object({ deviceId: z.uuid(), seq: z.number().int(), lotCode: z.string(), skuCode: z.string(), direction: z.enum(['in', 'out']), quantity: z.number().int(), deviceTs: z.iso.datetime(), receivedAt: z.iso.datetime() })
  .openapi('Movement');
export const movementPage = pageSchema(movementOutput).openapi('MovementPage');

/**
 * Movement history of a warehouse (operator) or of a pledge's lots (bank, supplier),
 * newest first, paged by (received time, device, seq).
 */
export async function listMovements({ ctx, input }: { ctx: Ctx; input: { warehouseId?: string; pledgeId?: string } & Record<string, unknown> }) {
  const q = parseInput(listMovementsInput, input, 'query');
  let warehouseId: string;
  let lots: string[] | null = null;
  let until: Date | null = null;
  if (input.pledgeId) {
    const pledge = await loadVisiblePledge(ctx, input.pledgeId);
    until = pledge.releasedAt;
    warehouseId = pledge.warehouseId;
    lots = (await ctx.db.select({ lotCode: pledgeLots.lotCode }).from(pledgeLots).where(eq(pledgeLots.pledgeId, pledge.id))).map((l) => l.lotCode);
  } else {
    const [warehouse] = await ctx.db.select().from(warehouses).where(eq(warehouses.id, input.warehouseId!));
    if (!warehouse || (ctx.actor.type === 'user' && !isPlatformWide(ctx.actor) && warehouse.warehouseOrganizationId !== ctx.actor.organizationId)) throw notFound('Warehouse');
    warehouseId = warehouse.id;
  }
  if (q.lotCode && lots && !lots.includes(q.lotCode)) throw new AppError('validation_failed', 'lotCode is not a lot of this pledge', { errors: [{ path: 'query/lotCode', message: 'not in this pledge' }] });
  const where: (SQL | undefined)[] = [eq(telemetryEvents.warehouseId, warehouseId), eq(telemetryEvents.kind, 'movement')];
  const lotFilter = q.lotCode ? [q.lotCode] : lots;
  if (lotFilter) where.push(or(...lotFilter.map((l) => eq(telemetryEvents.lotCode, l))));
  if (until) where.push(lte(telemetryEvents.receivedAt, until));
  if (q.cursor) {
    const [ms, deviceId, seq] = q.cursor.split('_');
    const at = new Date(Number(ms));
    where.push(or(lt(telemetryEvents.receivedAt, at), and(eq(telemetryEvents.receivedAt, at), or(lt(telemetryEvents.deviceId, deviceId!), and(eq(telemetryEvents.deviceId, deviceId!), lt(telemetryEvents.seq, Number(seq)))))));
  }
  const rows = await ctx.db
    .select()
    .from(telemetryEvents)
    .where(and(...where))
    .orderBy(desc(telemetryEvents.receivedAt), desc(telemetryEvents.deviceId), desc(telemetryEvents.seq))
    .limit(q.limit + 1);
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return {
    items: page.map((r) => ({
      deviceId: r.deviceId,
      seq: r.seq,
      lotCode: r.lotCode!,
      skuCode: r.skuCode!,
      direction: (r.signedQuantity ?? 0) < 0 ? ('out' as const) : ('in' as const),
      quantity: Math.abs(r.signedQuantity ?? 0),
      deviceTs: r.deviceTs.toISOString(),
      receivedAt: r.receivedAt.toISOString(),
    })),
    nextCursor: rows.length > q.limit && last ? `${last.receivedAt.getTime()}_${last.deviceId}_${last.seq}` : null,
  };
}
