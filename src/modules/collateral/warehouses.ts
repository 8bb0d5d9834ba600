import { and, asc, eq, inArray } from 'drizzle-orm';
import { pledgeLots, warehouses } from '../../db/schema';
import { afterCursor } from '../../db/keyset';
import { type Ctx, requireRole } from '../../lib/context';
import { AppError, forbidden } from '../../lib/errors';
import { decodeCursor, pageOf, pageQuerySchema } from '../../lib/pagination';
import { parseInput } from '../../lib/validation';
import { recordAudit } from '../audit/record-audit';
import { loadVisibleWarehouse, warehouseScope } from './access';
import { toWarehouse } from './mappers';
import { createWarehouseInput, setZonesInput } from './schemas';

/** A warehouse operator (仓储监管方) registers a supervised warehouse of its organization. */
export async function createWarehouse({ ctx, input }: { ctx: Ctx; input: unknown }) {
  requireRole(ctx, ['warehouse_operator']);
  const data = parseInput(createWarehouseInput, input);
  if (ctx.actor.type !== 'user') throw forbidden('A warehouse belongs to a warehouse organization');
  const orgId = ctx.actor.organizationId;
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx.insert(warehouses).values({ warehouseOrganizationId: orgId, name: data.name, address: data.address, zones: data.zones, createdAt: ctx.clock.now() }).returning();
    const out = toWarehouse(row!);
    await recordAudit(tx, ctx, { organizationId: orgId, action: 'warehouse.created', subjectType: 'warehouse', subjectId: row!.id, data: { before: null, after: out } });
    return out;
  });
}

export async function listWarehouses({ ctx, input }: { ctx: Ctx; input: unknown }) {
  const q = parseInput(pageQuerySchema, input, 'query');
  const rows = await ctx.db
    .select()
    .from(warehouses)
    .where(and(afterCursor(warehouses.createdAt, warehouses.id, decodeCursor(q.cursor)), warehouseScope(ctx.db, ctx.actor)))
    .orderBy(asc(warehouses.createdAt), asc(warehouses.id))
    .limit(q.limit + 1);
  return pageOf(rows, q.limit, toWarehouse);
}

export async function getWarehouse({ ctx, input }: { ctx: Ctx; input: { warehouseId: string } }) {
  return toWarehouse(await loadVisibleWarehouse(ctx, input.warehouseId));
}

/**
 * Replaces the zone list. A zone still holding actively pledged lots cannot go: the pledge
 * names it, and devices report against it.
 */
export async function setWarehouseZones({ ctx, input }: { ctx: Ctx; input: { warehouseId: string } & Record<string, unknown> }) {
  requireRole(ctx, ['warehouse_operator']);
  const data = parseInput(setZonesInput, input);
  return ctx.db.transaction(async (tx) => {
    const warehouse = await loadVisibleWarehouse(ctx, input.warehouseId, tx, true);
    if (ctx.actor.type === 'user' && ctx.actor.organizationId !== warehouse.warehouseOrganizationId) throw forbidden("Only the warehouse's own operator may change its zones");
    const removed = warehouse.zones.filter((z) => !data.zones.includes(z));
    if (removed.length) {
      const inUse = await tx
        .selectDistinct({ zone: pledgeLots.zone })
        .from(pledgeLots)
        .where(and(eq(pledgeLots.warehouseId, warehouse.id), eq(pledgeLots.active, true), inArray(pledgeLots.zone, removed)));
      if (inUse.length) {
        const zones = inUse.map((r) => r.zone).sort();
        throw new AppError('conflict', `Zone ${zones.join(', ')} still holds pledged lots; release them first`, { extra: { zonesInUse: zones } });
      }
    }
    const [row] = await tx.update(warehouses).set({ zones: data.zones }).where(eq(warehouses.id, warehouse.id)).returning();
    await recordAudit(tx, ctx, {
      organizationId: warehouse.warehouseOrganizationId,
      action: 'warehouse.zones_changed',
      subjectType: 'warehouse',
      subjectId: warehouse.id,
      data: { before: { zones: warehouse.zones }, after: { zones: data.zones } },
    });
    return toWarehouse(row!);
  });
}
