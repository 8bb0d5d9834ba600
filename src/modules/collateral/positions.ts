import { asc, eq, sql, type SQL } from 'drizzle-orm';
import { pledgeLots, pledges, skus } from '../../db/schema';
import type { DbOrTx } from '../../db/client';
import { type Ctx, isPlatformWide } from '../../lib/context';
import { loadVisiblePledge, loadVisibleWarehouse } from './access';

/*
 * Positions are derived, never stored: booked = pledged − Σ released (of the lot's release
 * orders), sensed = Σ signed quantities of the movements devices reported for the lot in
 * its warehouse. Sums do not care in which order movements arrived, so a resent or
 * reordered stream gives the same positions.
 */

const released = sql<string>`coalesce((select sum(r.released_quantity) from release_orders r where r.pledge_id = ${pledgeLots.pledgeId} and r.lot_code = ${pledgeLots.lotCode}), 0)::text`;
// A released pledge's history stops at its release: later movements of the lot belong to its next holder.
const sensed = sql<string>`coalesce((select sum(t.signed_quantity) from telemetry_events t where t.warehouse_id = ${pledgeLots.warehouseId} and t.lot_code = ${pledgeLots.lotCode} and t.kind = 'movement' and t.signed_quantity is not null and (${pledges.releasedAt} is null or t.received_at <= ${pledges.releasedAt})), 0)::text`;

export interface LotPosition {
  lotId: string;
  pledgeId: string;
  pledgeReference: string;
  lotCode: string;
  skuId: string;
  skuCode: string;
  skuHaircutBp: number;
  zone: string;
  active: boolean;
  pledgedQuantity: number;
  releasedQuantity: number;
  bookedQuantity: number;
  sensedQuantity: number;
  difference: number;
}

/** Positions of the pledged lots matching `where` (over pledge_lots joined to pledges). */
export async function lotPositions(db: DbOrTx, where: SQL | undefined): Promise<LotPosition[]> {
  const rows = await db
    .select({
      lotId: pledgeLots.id,
      pledgeId: pledgeLots.pledgeId,
      pledgeReference: pledges.reference,
      lotCode: pledgeLots.lotCode,
      skuId: skus.id,
      skuCode: skus.code,
      skuHaircutBp: skus.haircutBp,
      zone: pledgeLots.zone,
      active: pledgeLots.active,
      pledgedQuantity: pledgeLots.pledgedQuantity,
      released,
      sensed,
    })
    .from(pledgeLots)
    .innerJoin(pledges, eq(pledges.id, pledgeLots.pledgeId))
    .innerJoin(skus, eq(skus.id, pledgeLots.skuId))
    .where(where)
    .orderBy(asc(pledges.createdAt), asc(pledgeLots.lotCode), asc(pledgeLots.id));
  return rows.map(({ released: r, sensed: s, ...row }) => {
    const releasedQuantity = Number(r);
    const sensedQuantity = Number(s);
    const bookedQuantity = row.pledgedQuantity - releasedQuantity;
    return { ...row, releasedQuantity, bookedQuantity, sensedQuantity, difference: sensedQuantity - bookedQuantity };
  });
}

const lotView = (p: LotPosition) => ({
  lotCode: p.lotCode,
  skuCode: p.skuCode,
  zone: p.zone,
  active: p.active,
  pledgedQuantity: p.pledgedQuantity,
  releasedQuantity: p.releasedQuantity,
  bookedQuantity: p.bookedQuantity,
  sensedQuantity: p.sensedQuantity,
  difference: p.difference,
});

/** Booked vs sensed for each lot of a pledge (a released pledge's lots show as inactive). */
export async function getPledgePositions({ ctx, input }: { ctx: Ctx; input: { pledgeId: string } }) {
  const pledge = await loadVisiblePledge(ctx, input.pledgeId);
  const lots = await lotPositions(ctx.db, eq(pledgeLots.pledgeId, pledge.id));
  return { pledgeId: pledge.id, reference: pledge.reference, warehouseId: pledge.warehouseId, status: pledge.status, lots: lots.map(lotView) };
}

type WarehouseRow = { lot_code: string; sku_code: string | null; pledge_id: string | null; reference: string | null; pledged: string; released: string; sensed: string };

/**
 * Every lot of a warehouse, pledged or merely moving, with its SKU totals. The operator and
 * the platform see all of it; a bank or supplier only the lots of its own active pledges —
 * never another bank's collateral, nor unpledged stock.
 */
export async function getWarehousePositions({ ctx, input }: { ctx: Ctx; input: { warehouseId: string } }) {
  const warehouse = await loadVisibleWarehouse(ctx, input.warehouseId);
  const { actor } = ctx;
  const seesAll = isPlatformWide(actor) || (actor.type === 'user' && actor.organizationId === warehouse.warehouseOrganizationId);
  const org = actor.type === 'user' ? actor.organizationId : null;
  const scope = seesAll ? sql`true` : sql`(l.bank_organization_id = ${org} or l.supplier_organization_id = ${org})`;
  const rows = await ctx.db.execute<WarehouseRow>(sql`
    with moves as (
      select t.lot_code, max(t.sku_code) as sku_code, sum(t.signed_quantity) as sensed
      from telemetry_events t
      where t.warehouse_id = ${warehouse.id} and t.kind = 'movement' and t.lot_code is not null and t.signed_quantity is not null
      group by t.lot_code
    ), lots as (
      select l.lot_code, l.pledge_id, p.reference, p.bank_organization_id, p.supplier_organization_id, s.code as sku_code, l.pledged_quantity,
        coalesce((select sum(r.released_quantity) from release_orders r where r.pledge_id = l.pledge_id and r.lot_code = l.lot_code), 0) as released
      from pledge_lots l join pledges p on p.id = l.pledge_id join skus s on s.id = l.sku_id
      where l.warehouse_id = ${warehouse.id} and l.active
    )
    select coalesce(l.lot_code, m.lot_code) as lot_code, coalesce(l.sku_code, m.sku_code) as sku_code, l.pledge_id, l.reference,
      coalesce(l.pledged_quantity, 0)::text as pledged, coalesce(l.released, 0)::text as released, coalesce(m.sensed, 0)::text as sensed
    from lots l full outer join moves m on m.lot_code = l.lot_code
    where ${seesAll ? sql`true` : sql`l.pledge_id is not null and ${scope}`}
    order by 1`);
  const lots = [...rows].map((r) => {
    const pledgedQuantity = Number(r.pledged);
    const releasedQuantity = Number(r.released);
    const sensedQuantity = Number(r.sensed);
    const bookedQuantity = pledgedQuantity - releasedQuantity;
    return { lotCode: r.lot_code, skuCode: r.sku_code, pledgeId: r.pledge_id, pledgeReference: r.reference, pledgedQuantity, releasedQuantity, bookedQuantity, sensedQuantity, difference: sensedQuantity - bookedQuantity };
  });
  const bySku = new Map<string | null, { skuCode: string | null; pledgedQuantity: number; releasedQuantity: number; bookedQuantity: number; sensedQuantity: number; difference: number }>();
  for (const l of lots) {
    const t = bySku.get(l.skuCode) ?? { skuCode: l.skuCode, pledgedQuantity: 0, releasedQuantity: 0, bookedQuantity: 0, sensedQuantity: 0, difference: 0 };
    t.pledgedQuantity += l.pledgedQuantity;
    t.releasedQuantity += l.releasedQuantity;
    t.bookedQuantity += l.bookedQuantity;
    t.sensedQuantity += l.sensedQuantity;
    t.difference += l.difference;
    bySku.set(l.skuCode, t);
  }
  const skus = [...bySku.values()].sort((a, b) => (a.skuCode ?? '').localeCompare(b.skuCode ?? ''));
  return { warehouseId: warehouse.id, lots, skus };
}
