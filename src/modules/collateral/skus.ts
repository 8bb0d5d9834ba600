import { and, asc, desc, eq, inArray, lte } from 'drizzle-orm';
import { skuPrices, skus } from '../../db/schema';
import type { DbOrTx } from '../../db/client';
import { isUniqueViolation } from '../../db/errors';
import { afterCursor } from '../../db/keyset';
import { type Ctx, requireRole } from '../../lib/context';
import { conflict, notFound } from '../../lib/errors';
import { decodeCursor, pageOf, pageQuerySchema } from '../../lib/pagination';
import { parseInput } from '../../lib/validation';
import { recordAudit } from '../audit/record-audit';
import { actorOrganization } from './access';
import { type Sku, type SkuPrice, toSku } from './mappers';
import { createSkuInput } from './schemas';

/**
 * The price that counts at `at` for each SKU: the latest effective at or before it (a
 * price entered later for the same instant corrects the earlier one).
 */
export async function latestPrices(db: DbOrTx, skuIds: string[], at: Date): Promise<Map<string, SkuPrice>> {
  if (skuIds.length === 0) return new Map();
  const rows = await db
    .selectDistinctOn([skuPrices.skuId])
    .from(skuPrices)
    .where(and(inArray(skuPrices.skuId, skuIds), lte(skuPrices.effectiveAt, at)))
    .orderBy(skuPrices.skuId, desc(skuPrices.effectiveAt), desc(skuPrices.createdAt), desc(skuPrices.id));
  return new Map(rows.map((r) => [r.skuId, r]));
}

async function skuViews(db: DbOrTx, rows: Sku[], at: Date) {
  const prices = await latestPrices(db, rows.map((s) => s.id), at);
  return rows.map((s) => toSku(s, prices.get(s.id)));
}

/** SKUs are shared reference data: a bank, a warehouse operator or the platform defines one. */
export async function createSku({ ctx, input }: { ctx: Ctx; input: unknown }) {
  requireRole(ctx, ['credit_officer', 'warehouse_operator', 'platform_admin']);
  const data = parseInput(createSkuInput, input);
  try {
    return await ctx.db.transaction(async (tx) => {
      const [row] = await tx.insert(skus).values({ ...data, createdAt: ctx.clock.now() }).returning();
      const out = toSku(row!, undefined);
      await recordAudit(tx, ctx, { organizationId: actorOrganization(ctx), action: 'sku.created', subjectType: 'sku', subjectId: row!.id, data: { before: null, after: out } });
      return out;
    });
  } catch (e) {
    if (isUniqueViolation(e, 'skus_code_unique')) throw conflict(`A SKU with code ${data.code} already exists`, { skuCode: data.code });
    throw e;
  }
}

export async function listSkus({ ctx, input }: { ctx: Ctx; input: unknown }) {
  const q = parseInput(pageQuerySchema, input, 'query');
  const rows = await ctx.db
    .select()
    .from(skus)
    .where(afterCursor(skus.createdAt, skus.id, decodeCursor(q.cursor)))
    .orderBy(asc(skus.createdAt), asc(skus.id))
    .limit(q.limit + 1);
  const page = pageOf(rows, q.limit, (r) => r);
  return { items: await skuViews(ctx.db, page.items, ctx.clock.now()), nextCursor: page.nextCursor };
}

export async function loadSku(db: DbOrTx, id: string, lock = false): Promise<Sku> {
  const q = db.select().from(skus).where(eq(skus.id, id));
  const [row] = lock ? await q.for('update') : await q;
  if (!row) throw notFound('SKU');
  return row;
}

export async function getSku({ ctx, input }: { ctx: Ctx; input: { skuId: string } }) {
  const [view] = await skuViews(ctx.db, [await loadSku(ctx.db, input.skuId)], ctx.clock.now());
  return view!;
}
