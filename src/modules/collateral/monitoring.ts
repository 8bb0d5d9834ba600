import { and, asc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import { pledges, quarantine, warehouses } from '../../db/schema';
import { afterCursor } from '../../db/keyset';
import { type Ctx, isPlatformWide, requireRole } from '../../lib/context';
import { decodeCursor, pageOf } from '../../lib/pagination';
import { parseInput } from '../../lib/validation';
import { toQuarantine } from './mappers';
import { listQuarantineInput } from './schemas';

/**
 * Messages ingestion refused, with why. The warehouse operator sees its warehouses'; a bank
 * those of warehouses holding its active pledges (a forged or replayed message there is its
 * risk); messages no warehouse could be tied to, only the platform.
 */
export async function listQuarantine({ ctx, input }: { ctx: Ctx; input: unknown }) {
  requireRole(ctx, ['warehouse_operator', 'credit_officer', 'risk_officer', 'platform_admin']);
  const q = parseInput(listQuarantineInput, input, 'query');
  const where: (SQL | undefined)[] = [afterCursor(quarantine.receivedAt, quarantine.id, decodeCursor(q.cursor))];
  const { actor } = ctx;
  if (actor.type === 'user' && !isPlatformWide(actor)) {
    const org = actor.organizationId;
    where.push(
      actor.organizationKind === 'warehouse'
        ? inArray(quarantine.warehouseId, sql`(select ${warehouses.id} from ${warehouses} where ${warehouses.warehouseOrganizationId} = ${org})`)
        : inArray(quarantine.warehouseId, sql`(select ${pledges.warehouseId} from ${pledges} where ${pledges.bankOrganizationId} = ${org} and ${pledges.status} = 'active')`),
    );
  }
  if (q.warehouseId) where.push(eq(quarantine.warehouseId, q.warehouseId));
  if (q.reason) where.push(eq(quarantine.reason, q.reason));
  const rows = await ctx.db.select().from(quarantine).where(and(...where)).orderBy(asc(quarantine.receivedAt), asc(quarantine.id)).limit(q.limit + 1);
  return pageOf(rows.map((r) => ({ ...r, createdAt: r.receivedAt })), q.limit, toQuarantine);
}
