import { and, asc, eq, inArray } from 'drizzle-orm';
import { skuPrices, skus } from '../../db/schema';
import type { Tx } from '../../db/client';
import { afterCursor } from '../../db/keyset';
import { type Ctx, requireRole } from '../../lib/context';
import { type FieldError, fieldErrorsFromZod } from '../../lib/errors';
import { parseYuanToFen } from '../../lib/money';
import { decodeCursor, pageOf, pageQuerySchema } from '../../lib/pagination';
import { parseInput } from '../../lib/validation';
import { recordAudit } from '../audit/record-audit';
import { readCsvTable } from '../../lib/csv';
import { actorOrganization } from './access';
import { type Sku, toPrice } from './mappers';
import { codeInput, priceInput } from './schemas';
import { loadSku } from './skus';

export const MAX_PRICE_CSV_ROWS = 5000;

/** Who may set prices: they move every coverage ratio, so only credit officers and the platform. */
const PRICE_ROLES = ['credit_officer', 'platform_admin'] as const;

async function insertPrice(tx: Tx, ctx: Ctx, sku: Sku, p: { priceFen: number; effectiveAt: Date; source: string }) {
  const [row] = await tx
    .insert(skuPrices)
    .values({ skuId: sku.id, priceFen: BigInt(p.priceFen), effectiveAt: p.effectiveAt, source: p.source, createdAt: ctx.clock.now() })
    .returning();
  const out = toPrice(row!, sku.code);
  await recordAudit(tx, ctx, { organizationId: actorOrganization(ctx), action: 'sku_price.created', subjectType: 'sku', subjectId: sku.id, data: { before: null, after: out } });
  return { row: row!, out };
}

/** One price per base unit, with when it takes effect and where it came from. */
export async function addSkuPrice({ ctx, input }: { ctx: Ctx; input: { skuId: string } & Record<string, unknown> }) {
  requireRole(ctx, PRICE_ROLES);
  const data = parseInput(priceInput, input);
  return ctx.db.transaction(async (tx) => {
    const sku = await loadSku(tx, input.skuId);
    const { out } = await insertPrice(tx, ctx, sku, { ...data, effectiveAt: new Date(data.effectiveAt) });
    return out;
  });
}

/** Price history, by effective time (oldest first, like every list here). */
export async function listSkuPrices({ ctx, input }: { ctx: Ctx; input: { skuId: string } & Record<string, unknown> }) {
  const q = parseInput(pageQuerySchema, input, 'query');
  const sku = await loadSku(ctx.db, input.skuId);
  const rows = await ctx.db
    .select()
    .from(skuPrices)
    .where(and(eq(skuPrices.skuId, sku.id), afterCursor(skuPrices.effectiveAt, skuPrices.id, decodeCursor(q.cursor))))
    .orderBy(asc(skuPrices.effectiveAt), asc(skuPrices.id))
    .limit(q.limit + 1);
  // The cursor pages on effective time, so it carries that instead of created_at.
  return pageOf(rows.map((r) => ({ ...r, recordedAt: r.createdAt, createdAt: r.effectiveAt })), q.limit, (r) => toPrice({ ...r, createdAt: r.recordedAt }, sku.code));
}

/** Column names accepted in a price CSV header (English, case-insensitive, or Chinese). */
const CSV_COLUMNS: Record<string, string> = {
  sku_code: 'skuCode',
  商品编码: 'skuCode',
  sku编码: 'skuCode',
  price: 'price',
  价格: 'price',
  单价: 'price',
  effective_at: 'effectiveAt',
  生效时间: 'effectiveAt',
  source: 'source',
  来源: 'source',
};
const REQUIRED_COLUMNS = ['skuCode', 'price', 'effectiveAt', 'source'];

const csvRow = priceInput.extend({ skuCode: codeInput });
const isoInstant = priceInput.shape.effectiveAt;

/**
 * A wall-clock time in `timeZone` as an instant. Price feeds print local dates and times
 * (收盘价 2026-11-20), so those mean the business time zone, not UTC.
 */
export function zonedInstant(y: number, mo: number, d: number, h: number, mi: number, s: number, timeZone: string): Date | null {
  const wall = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(wall);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return null;
  const offsetAt = (t: number) => {
    const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(new Date(t));
    const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
    return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) - t;
  };
  // Two passes settle the offset across a daylight-saving edge.
  let t = wall - offsetAt(wall);
  t = wall - offsetAt(t);
  return new Date(t);
}

/** ISO 8601 with an offset, or a local "YYYY-MM-DD[ HH:mm[:ss]]" (slashes allowed) in the business time zone. */
export function parseEffectiveAt(text: string, timeZone: string): Date | null {
  if (isoInstant.safeParse(text).success) return new Date(text);
  const m = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$/.exec(text);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map((v) => Number(v ?? 0)) as [number, number, number, number, number, number];
  return zonedInstant(y, mo, d, h, mi, s, timeZone);
}

type RowOutcome = { row: number; skuCode: string | null; outcome: 'created' | 'unchanged' | 'rejected'; priceId?: string; errors?: FieldError[] };

/**
 * CSV import (sku_code, price in yuan, effective_at, source). Each row is checked and
 * reported on its own; every valid row is written in one transaction. A row identical to a
 * stored price (same SKU, instant, source and amount) is `unchanged`, so re-sending a file
 * adds nothing.
 */
export async function importPricesCsv({ ctx, input }: { ctx: Ctx; input: { bytes: Uint8Array; charset?: string } }) {
  requireRole(ctx, PRICE_ROLES);
  const table = readCsvTable(input, { aliases: CSV_COLUMNS, required: REQUIRED_COLUMNS, expected: 'sku_code, price, effective_at, source', maxRows: MAX_PRICE_CSV_ROWS, one: 'price', many: 'prices' });

  const outcomes: RowOutcome[] = [];
  const valid: { row: number; skuCode: string; priceFen: number; effectiveAt: Date; source: string }[] = [];
  const seen = new Map<string, number>();
  table.rows.forEach(({ line: row, get }) => {
    const errors: FieldError[] = [];
    const priceText = get('price');
    const priceFen = parseYuanToFen(priceText);
    if (!priceText) errors.push({ path: `row ${row}/price`, message: 'required' });
    else if (priceFen === null) errors.push({ path: `row ${row}/price`, message: `"${priceText}" is not an amount in yuan with at most 2 decimals` });
    const effectiveText = get('effectiveAt');
    const effectiveAt = effectiveText ? parseEffectiveAt(effectiveText, ctx.businessTz) : null;
    if (!effectiveText) errors.push({ path: `row ${row}/effectiveAt`, message: 'required' });
    else if (!effectiveAt) errors.push({ path: `row ${row}/effectiveAt`, message: `"${effectiveText}" is not a date-time (ISO 8601, or YYYY-MM-DD[ HH:mm[:ss]] in ${ctx.businessTz})` });
    const parsed = csvRow.safeParse({ skuCode: get('skuCode'), priceFen: priceFen ?? 1, effectiveAt: effectiveAt?.toISOString() ?? new Date(0).toISOString(), source: get('source') });
    if (!parsed.success) errors.push(...fieldErrorsFromZod(parsed.error.issues, `row ${row}`));
    const skuCode = get('skuCode') || null;
    if (errors.length === 0) {
      const key = `${parsed.data!.skuCode}|${effectiveAt!.toISOString()}|${parsed.data!.source}`;
      if (seen.has(key)) errors.push({ path: `row ${row}/effectiveAt`, message: `row ${seen.get(key)} already prices ${parsed.data!.skuCode} at this time from this source` });
      else seen.set(key, row);
    }
    if (errors.length) {
      outcomes.push({ row, skuCode, outcome: 'rejected', errors });
      return;
    }
    valid.push({ row, skuCode: parsed.data!.skuCode, priceFen: priceFen!, effectiveAt: effectiveAt!, source: parsed.data!.source });
  });

  return ctx.db.transaction(async (tx) => {
    const codes = [...new Set(valid.map((v) => v.skuCode))];
    // Lock the SKUs in id order: two uploads of the same file then agree on what is unchanged.
    const found = codes.length ? await tx.select().from(skus).where(inArray(skus.code, codes)).orderBy(asc(skus.id)).for('update') : [];
    const byCode = new Map(found.map((s) => [s.code, s]));
    for (const v of valid) {
      const sku = byCode.get(v.skuCode);
      if (!sku) {
        outcomes.push({ row: v.row, skuCode: v.skuCode, outcome: 'rejected', errors: [{ path: `row ${v.row}/skuCode`, message: `no SKU with code ${v.skuCode}` }] });
        continue;
      }
      const [same] = await tx
        .select({ id: skuPrices.id })
        .from(skuPrices)
        .where(and(eq(skuPrices.skuId, sku.id), eq(skuPrices.effectiveAt, v.effectiveAt), eq(skuPrices.source, v.source), eq(skuPrices.priceFen, BigInt(v.priceFen))))
        .limit(1);
      if (same) {
        outcomes.push({ row: v.row, skuCode: v.skuCode, outcome: 'unchanged', priceId: same.id });
        continue;
      }
      const { row } = await insertPrice(tx, ctx, sku, v);
      outcomes.push({ row: v.row, skuCode: v.skuCode, outcome: 'created', priceId: row.id });
    }
    outcomes.sort((a, b) => a.row - b.row);
    return { accepted: outcomes.filter((o) => o.outcome !== 'rejected').length, rejected: outcomes.filter((o) => o.outcome === 'rejected').length, rows: outcomes };
  });
}
