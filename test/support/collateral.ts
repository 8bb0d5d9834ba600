import { randomBytes, randomUUID } from 'node:crypto';
import type { Database } from '../../src/db/client';
import { call, factories } from './harness';
import { financingWorld, ok, type World } from './financing';

type App = Parameters<typeof call>[0];
type Factories = Awaited<ReturnType<typeof factories>>;
type Actor = Awaited<ReturnType<Factories['actor']>>;

export const uniqCode = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex').toUpperCase()}`;

/** A supervised warehouse registered by its operator through the API. */
export async function warehouseOf(app: App, operator: Actor, zones: string[] = ['A1', 'A2']) {
  return ok(call(app, 'POST', '/v1/warehouses', { key: operator.key, body: { name: `监管仓 ${randomBytes(2).toString('hex')}`, address: '宁波市北仑区港区路 1 号', zones } }), 201);
}

/** A SKU (kg, 1 kg a unit, 2% tolerance, 30% haircut unless told otherwise). */
export async function skuOf(app: App, key: string, overrides: Record<string, unknown> = {}) {
  return ok(
    call(app, 'POST', '/v1/skus', { key, body: { code: uniqCode('STEEL'), name: '热轧卷板 Q235', unit: 'kg', nominalUnitWeightGrams: 1000, toleranceBp: 200, haircutBp: 3000, ...overrides } }),
    201,
  );
}

/**
 * financingWorld plus a warehouse operator and warehouse, a SKU with a price, and the
 * program's collateral terms — everything a pledge needs, built through the API.
 */
export async function collateralWorld(
  app: App,
  f: Factories,
  options: { world?: World; operator?: Actor; warehouse?: { id: string }; priceFen?: number | null; priceEffectiveAt?: string; terms?: Record<string, unknown> | null } = {},
) {
  const w = options.world ?? (await financingWorld(app, f));
  const operator = options.operator ?? (await f.actor('warehouse_operator'));
  const warehouse = options.warehouse ?? (await warehouseOf(app, operator));
  const sku = await skuOf(app, w.credit.key);
  if (options.priceFen !== null) {
    await ok(call(app, 'POST', `/v1/skus/${sku.id}/prices`, { key: w.credit.key, body: { priceFen: options.priceFen ?? 20_000, effectiveAt: options.priceEffectiveAt ?? '2026-11-22T08:00:00+08:00', source: 'SHFE' } }), 201);
  }
  const terms =
    options.terms === null
      ? null
      : await ok(call(app, 'PUT', `/v1/programs/${w.program.id}/collateral-terms`, { key: w.credit.key, body: { warningLineBp: 13_000, liquidationLineBp: 11_000, priceMaxAgeHours: 48, ...options.terms } }));
  return { ...w, operator, warehouse, sku, terms };
}

export type CollateralWorld = Awaited<ReturnType<typeof collateralWorld>>;

/** POST /v1/pledges on the world's line and warehouse; answers the raw response. */
export function pledge(app: App, w: Pick<CollateralWorld, 'credit' | 'line' | 'warehouse'>, lots: { lotCode: string; skuCode: string; quantity: number; zone?: string; tagIds?: string[] }[], headers?: Record<string, string>) {
  return call(app, 'POST', '/v1/pledges', { key: w.credit.key, headers, body: { creditLineId: w.line.id, warehouseId: w.warehouse.id, lots: lots.map((l) => ({ zone: 'A1', tagIds: [], ...l })) } });
}

let seq = 0;
const testDevice = randomUUID();

/**
 * A movement as ingestion would store it (ingestion itself is tested elsewhere): positive
 * in, negative out. Each call is a new (device, seq).
 */
export async function movement(database: Database, m: { warehouseId: string; lotCode: string; skuCode: string; signedQuantity: number; deviceId?: string }) {
  seq += 1;
  const body = { direction: m.signedQuantity >= 0 ? 'in' : 'out', lotCode: m.lotCode, skuCode: m.skuCode, quantity: Math.abs(m.signedQuantity) };
  await database.sql`
    insert into telemetry_events (device_id, seq, kind, warehouse_id, device_ts, received_at, body_hash, body, lot_code, sku_code, signed_quantity)
    values (${m.deviceId ?? testDevice}, ${seq}, 'movement', ${m.warehouseId}, now(), now(), ${randomBytes(16).toString('hex')}, ${JSON.stringify(body)}::jsonb, ${m.lotCode}, ${m.skuCode}, ${m.signedQuantity})`;
}

/** What the ingest job does when an outbound matches a release order. */
export async function consumeRelease(database: Database, releaseOrderId: string, quantity: number) {
  await database.sql`update release_orders set released_quantity = released_quantity + ${quantity}, status = case when released_quantity + ${quantity} = quantity then 'used'::release_order_status else status end where id = ${releaseOrderId}`;
}
