import { and, eq, exists, inArray, or, sql, type SQL } from 'drizzle-orm';
import { pledges, warehouses } from '../../db/schema';
import type { DbOrTx } from '../../db/client';
import { type Actor, type Ctx, isPlatformWide } from '../../lib/context';
import { notFound } from '../../lib/errors';
import type { Pledge, Warehouse } from './mappers';

const orgOf = (actor: Actor) => (actor.type === 'user' ? actor.organizationId : null);

/**
 * Who sees a pledge: its bank and its pledgor (the supplier), and the operator of the
 * warehouse that holds the goods — it must know what it may not let out.
 */
export function pledgeScope(actor: Actor): SQL | undefined {
  if (isPlatformWide(actor)) return undefined;
  const org = orgOf(actor)!;
  return or(
    eq(pledges.bankOrganizationId, org),
    eq(pledges.supplierOrganizationId, org),
    inArray(pledges.warehouseId, sql`(select ${warehouses.id} from ${warehouses} where ${warehouses.warehouseOrganizationId} = ${org})`),
  );
}

/**
 * Who sees a warehouse: its operator; a bank or supplier only through a pledge of its own
 * there (banks do not browse each other's collateral locations).
 */
export function warehouseScope(db: DbOrTx, actor: Actor): SQL | undefined {
  if (isPlatformWide(actor)) return undefined;
  const org = orgOf(actor)!;
  return or(
    eq(warehouses.warehouseOrganizationId, org),
    exists(
      db
        .select({ one: sql`1` })
        .from(pledges)
        .where(and(eq(pledges.warehouseId, warehouses.id), or(eq(pledges.bankOrganizationId, org), eq(pledges.supplierOrganizationId, org)))),
    ),
  );
}

/** Another tenant's warehouse is 404, never 403. */
export async function loadVisibleWarehouse(ctx: Ctx, id: string, db: DbOrTx = ctx.db, lock = false): Promise<Warehouse> {
  const q = db.select().from(warehouses).where(and(eq(warehouses.id, id), warehouseScope(db, ctx.actor)));
  const [row] = lock ? await q.for('update', { of: warehouses }) : await q;
  if (!row) throw notFound('Warehouse');
  return row;
}

export async function loadVisiblePledge(ctx: Ctx, id: string, db: DbOrTx = ctx.db, lock = false): Promise<Pledge> {
  const q = db.select().from(pledges).where(and(eq(pledges.id, id), pledgeScope(ctx.actor)));
  const [row] = lock ? await q.for('update', { of: pledges }) : await q;
  if (!row) throw notFound('Pledge');
  return row;
}

export { actorName, requireOwnBank } from '../../lib/context';
export const actorOrganization = (ctx: Ctx) => orgOf(ctx.actor);
