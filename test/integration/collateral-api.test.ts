import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client';
import { fixedClock } from '../../src/lib/clock';
import { computeCoverage } from '../../src/modules/collateral/coverage';
import { call, expectProblem, factories, testApp } from '../support/harness';
import { confirmedInvoice, financeThrough, financingWorld, ok, type World } from '../support/financing';
import { collateralWorld, consumeRelease, movement, pledge, skuOf, uniqCode, warehouseOf, type CollateralWorld } from '../support/collateral';

// 10:00 in Shanghai on the business day every price and window below is written against.
const clock = fixedClock('2026-11-22T02:00:00Z');
let app: Awaited<ReturnType<typeof testApp>>['app'];
let f: Awaited<ReturnType<typeof factories>>;
let database: Database;

beforeAll(async () => {
  ({ app, database } = await testApp({ clock }));
  f = await factories();
});

/** Borrow against a confirmed invoice so the line has outstanding principal (80% advance). */
async function drawdown(w: World, principalFen: number) {
  const invoice = await confirmedInvoice(app, w, (principalFen * 10) / 8);
  const request = await financeThrough(app, w, [invoice.id]);
  expect(request.principalFen).toBe(principalFen);
}

const coverageOf = (w: CollateralWorld, key = w.credit.key) => ok(call(app, 'GET', `/v1/credit-lines/${w.line.id}/coverage`, { key }));

describe('the collateral story: warehouse → SKU → price → terms → pledge → release order → positions and coverage', () => {
  it('books, releases and values goods as devices see them move', async () => {
    const w = await financingWorld(app, f);
    const operator = await f.actor('warehouse_operator');

    // The operator registers its warehouse with zones.
    const warehouse = await ok(call(app, 'POST', '/v1/warehouses', { key: operator.key, body: { name: '宁波北仑监管仓', address: '宁波市北仑区港区路 1 号', zones: ['A1', 'A2'] } }), 201);
    expect(warehouse).toMatchObject({ warehouseOrganizationId: operator.organizationId, zones: ['A1', 'A2'] });
    expect((await ok(call(app, 'GET', '/v1/warehouses?limit=200', { key: operator.key }))).items.map((x: { id: string }) => x.id)).toContain(warehouse.id);

    // A SKU and its price (¥200.00 per kg), from the bank.
    const sku = await skuOf(app, w.credit.key);
    expect(sku).toMatchObject({ unit: 'kg', nominalUnitWeightGrams: 1000, toleranceBp: 200, haircutBp: 3000, currentPrice: null });
    const price = await ok(call(app, 'POST', `/v1/skus/${sku.id}/prices`, { key: w.credit.key, body: { priceFen: 20_000, effectiveAt: '2026-11-22T08:00:00+08:00', source: 'SHFE' } }), 201);
    expect(price).toMatchObject({ skuCode: sku.code, priceFen: 20_000, effectiveAt: '2026-11-22T00:00:00.000Z', source: 'SHFE' });
    expect((await ok(call(app, 'GET', `/v1/skus/${sku.id}`, { key: w.supplier.key }))).currentPrice).toEqual({ priceFen: 20_000, effectiveAt: '2026-11-22T00:00:00.000Z', source: 'SHFE' });
    // A price that takes effect tomorrow does not count yet.
    await ok(call(app, 'POST', `/v1/skus/${sku.id}/prices`, { key: w.credit.key, body: { priceFen: 1, effectiveAt: '2026-11-23T08:00:00+08:00', source: 'SHFE' } }), 201);
    expect((await ok(call(app, 'GET', `/v1/skus/${sku.id}`, { key: w.credit.key }))).currentPrice.priceFen).toBe(20_000);
    expect((await ok(call(app, 'GET', `/v1/skus/${sku.id}/prices`, { key: operator.key }))).items.map((p: { priceFen: number }) => p.priceFen)).toEqual([20_000, 1]);

    // The program's lines: warning under 130%, liquidation under 110%, prices at most 48 h old.
    const terms = await ok(call(app, 'PUT', `/v1/programs/${w.program.id}/collateral-terms`, { key: w.credit.key, body: { warningLineBp: 13_000, liquidationLineBp: 11_000, priceMaxAgeHours: 48 } }));
    expect(terms).toMatchObject({ programId: w.program.id, haircutBp: null, warningLineBp: 13_000, liquidationLineBp: 11_000, priceMaxAgeHours: 48 });
    expect(await ok(call(app, 'GET', `/v1/programs/${w.program.id}/collateral-terms`, { key: w.core.key }))).toEqual(terms);

    // ¥10,000.00 drawn on the line; 100 kg arrive in the warehouse before the pledge.
    await drawdown(w, 1_000_000);
    await movement(database, { warehouseId: warehouse.id, lotCode: 'LOT-1', skuCode: sku.code, signedQuantity: 100 });

    const cw = { credit: w.credit, line: w.line, warehouse };
    const pledged = await ok(pledge(app, cw, [{ lotCode: 'LOT-1', skuCode: sku.code, quantity: 100, zone: 'A1', tagIds: ['TAG-1', 'TAG-2'] }]), 201);
    expect(pledged).toMatchObject({
      bankOrganizationId: w.credit.organizationId,
      supplierOrganizationId: w.supplier.organizationId, // the line's supplier is the pledgor
      creditLineId: w.line.id,
      warehouseId: warehouse.id,
      status: 'active',
      lots: [{ lotCode: 'LOT-1', skuCode: sku.code, quantity: 100, zone: 'A1', tagIds: ['TAG-1', 'TAG-2'], active: true }],
    });
    expect(pledged.reference).toMatch(/^PLG-20261122-[0-9A-F]{8}$/);
    // Bank, supplier and the warehouse's operator all see it; the bank now sees the warehouse.
    for (const key of [w.credit.key, w.risk.key, w.supplier.key, operator.key]) expect((await ok(call(app, 'GET', `/v1/pledges/${pledged.id}`, { key }))).id).toBe(pledged.id);
    expect((await ok(call(app, 'GET', `/v1/pledges?creditLineId=${w.line.id}`, { key: operator.key }))).items.map((p: { id: string }) => p.id)).toEqual([pledged.id]);
    expect((await ok(call(app, 'GET', `/v1/warehouses/${warehouse.id}`, { key: w.supplier.key }))).id).toBe(warehouse.id);

    // 100 kg × ¥200 × (1 − 30%) = ¥14,000.00 against ¥10,000.00 → 140%.
    expect(await coverageOf(cw as CollateralWorld)).toMatchObject({ collateralValueFen: 1_400_000, outstandingFen: 1_000_000, coverageBp: 14_000, missingPrices: [], warningLineBp: 13_000, liquidationLineBp: 11_000, status: 'ok' });

    // 放货指令 for 20 kg; the goods leave against it (what the ingest job records).
    const order = await ok(call(app, 'POST', `/v1/pledges/${pledged.id}/release-orders`, { key: w.credit.key, body: { lotCode: 'LOT-1', quantity: 20, validFrom: '2026-11-22T00:00:00Z', validTo: '2026-11-23T00:00:00Z' } }), 201);
    expect(order).toMatchObject({ pledgeId: pledged.id, pledgeReference: pledged.reference, lotCode: 'LOT-1', quantity: 20, releasedQuantity: 0, status: 'open', createdBy: w.credit.userId });
    expect((await ok(call(app, 'GET', `/v1/pledges/${pledged.id}/release-orders`, { key: operator.key }))).items.map((o: { id: string }) => o.id)).toEqual([order.id]);
    await movement(database, { warehouseId: warehouse.id, lotCode: 'LOT-1', skuCode: sku.code, signedQuantity: -20 });
    await consumeRelease(database, order.id, 20);
    expect((await ok(call(app, 'GET', `/v1/release-orders/${order.id}`, { key: w.supplier.key }))).status).toBe('used');

    let positions = await ok(call(app, 'GET', `/v1/pledges/${pledged.id}/positions`, { key: w.supplier.key }));
    expect(positions.lots).toEqual([{ lotCode: 'LOT-1', skuCode: sku.code, zone: 'A1', active: true, pledgedQuantity: 100, releasedQuantity: 20, bookedQuantity: 80, sensedQuantity: 80, difference: 0 }]);
    // 80 kg → ¥11,200.00 → 112%: under the warning line.
    expect(await coverageOf(cw as CollateralWorld, w.supplier.key)).toMatchObject({ collateralValueFen: 1_120_000, coverageBp: 11_200, status: 'warning' });

    // 10 kg leave with no release order: sensed 70 < booked 80, and coverage counts only what is there.
    await movement(database, { warehouseId: warehouse.id, lotCode: 'LOT-1', skuCode: sku.code, signedQuantity: -10 });
    positions = await ok(call(app, 'GET', `/v1/pledges/${pledged.id}/positions`, { key: operator.key }));
    expect(positions.lots[0]).toMatchObject({ bookedQuantity: 80, sensedQuantity: 70, difference: -10 });
    const breached = await coverageOf(cw as CollateralWorld);
    expect(breached).toMatchObject({ collateralValueFen: 980_000, coverageBp: 9_800, status: 'liquidation' });
    expect(breached.lots).toEqual([expect.objectContaining({ lotCode: 'LOT-1', bookedQuantity: 80, sensedQuantity: 70, countedQuantity: 70, priceFen: 20_000, haircutBp: 3000 })]);

    // The program's haircut (20%) overrides the SKU's (30%): 70 × ¥200 × 80% = ¥11,200.00.
    await ok(call(app, 'PUT', `/v1/programs/${w.program.id}/collateral-terms`, { key: w.credit.key, body: { haircutBp: 2000, warningLineBp: 13_000, liquidationLineBp: 11_000, priceMaxAgeHours: 48 } }));
    expect(await coverageOf(cw as CollateralWorld)).toMatchObject({ collateralValueFen: 1_120_000, coverageBp: 11_200, status: 'warning' });
    // The exported computation says the same, in BigInt fen.
    const computed = await computeCoverage(database.db, w.line.id, clock.now());
    expect(computed).toMatchObject({ collateralValueFen: 1_120_000n, outstandingFen: 1_000_000n, coverageBp: 11_200, status: 'warning' });

    // Unpledged stock: the operator sees it in the warehouse, the bank only its own lots.
    await movement(database, { warehouseId: warehouse.id, lotCode: 'LOT-FREE', skuCode: sku.code, signedQuantity: 5 });
    const all = await ok(call(app, 'GET', `/v1/warehouses/${warehouse.id}/positions`, { key: operator.key }));
    expect(all.lots).toEqual([
      { lotCode: 'LOT-1', skuCode: sku.code, pledgeId: pledged.id, pledgeReference: pledged.reference, pledgedQuantity: 100, releasedQuantity: 20, bookedQuantity: 80, sensedQuantity: 70, difference: -10 },
      { lotCode: 'LOT-FREE', skuCode: sku.code, pledgeId: null, pledgeReference: null, pledgedQuantity: 0, releasedQuantity: 0, bookedQuantity: 0, sensedQuantity: 5, difference: 5 },
    ]);
    expect(all.skus).toEqual([{ skuCode: sku.code, pledgedQuantity: 100, releasedQuantity: 20, bookedQuantity: 80, sensedQuantity: 75, difference: -5 }]);
    const banks = await ok(call(app, 'GET', `/v1/warehouses/${warehouse.id}/positions`, { key: w.risk.key }));
    expect(banks.lots.map((l: { lotCode: string }) => l.lotCode)).toEqual(['LOT-1']);

    // Release orders never let out more than is booked; a cancelled one stops counting.
    const second = await ok(call(app, 'POST', `/v1/pledges/${pledged.id}/release-orders`, { key: w.credit.key, body: { lotCode: 'LOT-1', quantity: 80, validFrom: '2026-11-22T00:00:00Z', validTo: '2026-11-23T00:00:00Z' } }), 201);
    const tooMuch = await call(app, 'POST', `/v1/pledges/${pledged.id}/release-orders`, { key: w.credit.key, body: { lotCode: 'LOT-1', quantity: 1, validFrom: '2026-11-22T00:00:00Z', validTo: '2026-11-23T00:00:00Z' } });
    expect(expectProblem(tooMuch, 422, 'unprocessable')).toMatchObject({ releasableQuantity: 0, errors: [{ path: 'body/quantity', message: 'more than the lot has left to release' }] });
    expect(await ok(call(app, 'POST', `/v1/release-orders/${second.id}/cancel`, { key: w.credit.key, body: { reason: 'buyer postponed' } }))).toMatchObject({ status: 'cancelled' });
    expectProblem(await call(app, 'POST', `/v1/release-orders/${second.id}/cancel`, { key: w.credit.key, body: { reason: 'again' } }), 409, 'conflict');
    const third = await ok(call(app, 'POST', `/v1/pledges/${pledged.id}/release-orders`, { key: w.credit.key, body: { lotCode: 'LOT-1', quantity: 80, validFrom: '2026-11-22T00:00:00Z', validTo: '2026-11-23T00:00:00Z' } }), 201);

    // A zone holding pledged goods cannot be dropped.
    expectProblem(await call(app, 'PUT', `/v1/warehouses/${warehouse.id}/zones`, { key: operator.key, body: { zones: ['A2'] } }), 409, 'conflict');
    expect((await ok(call(app, 'PUT', `/v1/warehouses/${warehouse.id}/zones`, { key: operator.key, body: { zones: ['A1', 'B1'] } }))).zones).toEqual(['A1', 'B1']);

    // Releasing the pledge frees the lot and its tags; coverage no longer counts it.
    const released = await ok(call(app, 'POST', `/v1/pledges/${pledged.id}/release`, { key: w.credit.key, body: { reason: 'repaid' } }));
    expect(released).toMatchObject({ status: 'released', lots: [expect.objectContaining({ lotCode: 'LOT-1', active: false })] });
    const statuses = Object.fromEntries((await ok(call(app, 'GET', `/v1/pledges/${pledged.id}/release-orders`, { key: w.credit.key }))).items.map((o: { id: string; status: string }) => [o.id, o.status]));
    expect(statuses).toEqual({ [order.id]: 'used', [second.id]: 'cancelled', [third.id]: 'cancelled' }); // the open one lapsed
    expectProblem(await call(app, 'POST', `/v1/pledges/${pledged.id}/release`, { key: w.credit.key, body: { reason: 'again' } }), 409, 'conflict');
    expect(await coverageOf(cw as CollateralWorld)).toMatchObject({ collateralValueFen: 0, coverageBp: 0, status: 'liquidation', lots: [] });
    const again = await ok(pledge(app, cw, [{ lotCode: 'LOT-1', skuCode: sku.code, quantity: 70, tagIds: ['TAG-1'] }]), 201);
    expect(await coverageOf(cw as CollateralWorld)).toMatchObject({ collateralValueFen: 1_120_000, status: 'warning' });

    // Every change left its audit row, in the bank's trail.
    const audit = await ok(call(app, 'GET', `/v1/audit-events?subjectId=${pledged.id}`, { key: w.credit.key }));
    expect(audit.items.map((a: { action: string }) => a.action)).toEqual(['pledge.created', 'pledge.released']);
    expect(again.reference).not.toBe(pledged.reference);
  });
});

describe('权属不清: a lot or tag is pledged to one bank at a time', () => {
  let a: CollateralWorld;
  let b: CollateralWorld; // another bank, supplier and program, same warehouse
  let first: { id: string; reference: string };

  beforeAll(async () => {
    a = await collateralWorld(app, f);
    b = await collateralWorld(app, f, { operator: a.operator, warehouse: a.warehouse });
    first = await ok(pledge(app, a, [{ lotCode: 'COIL-7', skuCode: a.sku.code, quantity: 50, tagIds: ['RFID-7A', 'RFID-7B'] }]), 201);
  });

  it('another bank is refused without learning whose pledge or which', async () => {
    const attempts: [{ lotCode: string; skuCode: string; quantity: number; tagIds?: string[] }[], Record<string, string>][] = [
      [[{ lotCode: 'COIL-7', skuCode: b.sku.code, quantity: 10 }], { lotCode: 'COIL-7' }],
      [[{ lotCode: 'COIL-8', skuCode: b.sku.code, quantity: 10, tagIds: ['RFID-7B'] }], { tagId: 'RFID-7B' }],
    ];
    for (const [lots, conflict] of attempts) {
      const res = await pledge(app, b, lots);
      const problem = expectProblem(res, 409, 'conflict');
      expect(problem.detail).toMatch(/already pledged \(权属不清\)/i);
      for (const secret of [first.reference, first.id, a.credit.organizationId, a.supplier.organizationId, a.line.id]) expect(res.text).not.toContain(secret);
      expect(problem.conflicts).toEqual([conflict]);
    }
  });

  it('the bank that holds it is told which of its pledges', async () => {
    const res = await pledge(app, a, [{ lotCode: 'COIL-7', skuCode: a.sku.code, quantity: 5, tagIds: ['RFID-7A'] }]);
    const problem = expectProblem(res, 409, 'conflict');
    expect(problem.detail).toContain(first.reference);
    expect(problem.conflicts).toEqual([
      { lotCode: 'COIL-7', pledgeReference: first.reference },
      { tagId: 'RFID-7A', pledgeReference: first.reference },
    ]);
  });

  it('lot codes are per warehouse; tags are global', async () => {
    const elsewhere = await warehouseOf(app, b.operator);
    await ok(pledge(app, { ...b, warehouse: elsewhere }, [{ lotCode: 'COIL-7', skuCode: b.sku.code, quantity: 10 }]), 201);
    expectProblem(await pledge(app, { ...b, warehouse: elsewhere }, [{ lotCode: 'COIL-9', skuCode: b.sku.code, quantity: 10, tagIds: ['RFID-7A'] }]), 409, 'conflict');
  });

  it('two banks racing for the same lot: exactly one wins, the other gets 409 (the unique index decides)', async () => {
    for (let round = 0; round < 4; round++) {
      const lot = uniqCode('RACE');
      const tag = uniqCode('RFID');
      const results = await Promise.all([
        pledge(app, a, [{ lotCode: lot, skuCode: a.sku.code, quantity: 10, tagIds: [tag] }]),
        pledge(app, b, [{ lotCode: lot, skuCode: b.sku.code, quantity: 10, tagIds: [tag] }]),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
      const loser = results.find((r) => r.status === 409)!;
      expectProblem(loser, 409, 'conflict');
      const winner = results.find((r) => r.status === 201)!.body;
      expect(loser.text).not.toContain(winner.reference);
    }
    // Overlapping lots given in opposite orders: still one winner, never a deadlock.
    const [p, q] = [uniqCode('LOT'), uniqCode('LOT')];
    const crossed = await Promise.all([
      pledge(app, a, [{ lotCode: p, skuCode: a.sku.code, quantity: 1 }, { lotCode: q, skuCode: a.sku.code, quantity: 1 }]),
      pledge(app, b, [{ lotCode: q, skuCode: b.sku.code, quantity: 1 }, { lotCode: p, skuCode: b.sku.code, quantity: 1 }]),
    ]);
    expect(crossed.map((r) => r.status).sort()).toEqual([201, 409]);
    const [rows] = await database.sql<{ n: number }[]>`select count(*)::int as n from pledge_lots where warehouse_id = ${a.warehouse.id} and lot_code in (${p}, ${q}) and active`;
    expect(rows!.n).toBe(2);
  });

  it('a pledge that passes the check while another is still uncommitted is stopped by the index, and names nothing of the winner', async () => {
    const lot = uniqCode('HELD');
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let inserted!: () => void;
    const ready = new Promise<void>((resolve) => (inserted = resolve));
    // Bank A's pledge of the lot, written but not yet committed.
    const winner = database.sql.begin(async (tx) => {
      const [p] = await tx<{ id: string; reference: string }[]>`
        insert into pledges (reference, bank_organization_id, supplier_organization_id, credit_line_id, warehouse_id, created_at)
        values (${uniqCode('PLG-HELD')}, ${a.credit.organizationId}, ${a.supplier.organizationId}, ${a.line.id}, ${a.warehouse.id}, now()) returning id, reference`;
      await tx`insert into pledge_lots (pledge_id, warehouse_id, lot_code, sku_id, zone, tag_ids, pledged_quantity) values (${p!.id}, ${a.warehouse.id}, ${lot}, ${a.sku.id}, 'A1', '[]'::jsonb, 5)`;
      inserted();
      await held;
      return p!;
    });
    await ready;
    const loser = pledge(app, b, [{ lotCode: lot, skuCode: b.sku.code, quantity: 5 }]);
    await new Promise((r) => setTimeout(r, 200)); // b's insert is now waiting on the index
    release();
    const committed = await winner;
    const res = await loser;
    expect(expectProblem(res, 409, 'conflict').conflicts).toEqual([{ lotCode: lot }]);
    expect(res.text).not.toContain(committed.reference);
    // The same race lost by the owning bank names its own pledge.
    const own = await pledge(app, a, [{ lotCode: lot, skuCode: a.sku.code, quantity: 5 }]);
    expect(expectProblem(own, 409, 'conflict').conflicts).toEqual([{ lotCode: lot, pledgeReference: committed.reference }]);
  });
});

describe('coverage fails closed', () => {
  it('a stale price is a missing price: no ratio, never a zero that hides a breach', async () => {
    // Price from 2026-11-20 08:00 (Shanghai), max age 24 h, valued at 2026-11-22 10:00.
    const w = await collateralWorld(app, f, { priceEffectiveAt: '2026-11-20T08:00:00+08:00', terms: { priceMaxAgeHours: 24 } });
    await movement(database, { warehouseId: w.warehouse.id, lotCode: 'STALE-1', skuCode: w.sku.code, signedQuantity: 100 });
    await ok(pledge(app, w, [{ lotCode: 'STALE-1', skuCode: w.sku.code, quantity: 100 }]), 201);
    // Nothing outstanding yet, but the missing price is still what the bank must see.
    expect(await coverageOf(w)).toMatchObject({ status: 'price_missing', coverageBp: null, missingPrices: [w.sku.code] });
    await drawdown(w, 1_000_000);
    const stale = await coverageOf(w);
    expect(stale).toMatchObject({ collateralValueFen: 0, outstandingFen: 1_000_000, coverageBp: null, missingPrices: [w.sku.code], status: 'price_missing' });
    expect(stale.lots[0]).toMatchObject({ priceFen: 20_000, priceEffectiveAt: '2026-11-20T00:00:00.000Z' });

    // A fresh price restores the ratio.
    await ok(call(app, 'POST', `/v1/skus/${w.sku.id}/prices`, { key: w.credit.key, body: { priceFen: 20_000, effectiveAt: '2026-11-22T09:00:00+08:00', source: 'SHFE' } }), 201);
    expect(await coverageOf(w)).toMatchObject({ collateralValueFen: 1_400_000, coverageBp: 14_000, missingPrices: [], status: 'ok' });
    // …until it ages past 24 h.
    const later = await computeCoverage(database.db, w.line.id, new Date('2026-11-23T02:00:01Z'));
    expect(later).toMatchObject({ coverageBp: null, status: 'price_missing', missingPrices: [w.sku.code] });
  });

  it('a SKU never priced is missing too; a line with nothing outstanding has no exposure', async () => {
    const w = await collateralWorld(app, f, { priceFen: null });
    await ok(pledge(app, w, [{ lotCode: 'NOPRICE', skuCode: w.sku.code, quantity: 1 }]), 201);
    expect(await coverageOf(w)).toMatchObject({ status: 'price_missing', coverageBp: null, missingPrices: [w.sku.code] });
    const priced = await collateralWorld(app, f);
    expect(await coverageOf(priced, priced.supplier.key)).toMatchObject({ collateralValueFen: 0, outstandingFen: 0, coverageBp: null, status: 'no_exposure' });
  });

  it('pledging needs the program’s collateral terms first', async () => {
    const w = await collateralWorld(app, f, { terms: null });
    const res = await pledge(app, w, [{ lotCode: 'NOTERMS', skuCode: w.sku.code, quantity: 1 }]);
    expect(expectProblem(res, 409, 'conflict').detail).toMatch(/collateral terms/);
    expect(await coverageOf(w)).toMatchObject({ status: 'no_exposure', warningLineBp: null, liquidationLineBp: null });
    await drawdown(w, 800_000);
    expect(await coverageOf(w)).toMatchObject({ status: 'no_terms', coverageBp: 0 });
  });
});

describe('price CSV import', () => {
  it('reports each row; good rows land, a bad row never drops them; re-sending changes nothing', async () => {
    const w = await financingWorld(app, f);
    const sku = await skuOf(app, w.credit.key);
    const csv = [
      'sku_code,price,effective_at,source',
      `${sku.code},"1,234.50",2026-11-20,上海钢联`,
      `${sku.code},12.345,2026-11-21,上海钢联`,
      `NO-SUCH-SKU,1.00,2026-11-21,上海钢联`,
      `${sku.code},1.00,yesterday,上海钢联`,
      `${sku.code},1300,2026-11-21T15:00:00+08:00,`,
      `${sku.code},1300,2026-11-21 15:00,SHFE`,
    ].join('\n');
    const report = await ok(call(app, 'POST', '/v1/prices/csv', { key: w.credit.key, rawBody: csv, contentType: 'text/csv' }));
    expect(report).toMatchObject({ accepted: 2, rejected: 4 });
    expect(report.rows.map((r: { row: number; outcome: string }) => [r.row, r.outcome])).toEqual([
      [2, 'created'],
      [3, 'rejected'],
      [4, 'rejected'],
      [5, 'rejected'],
      [6, 'rejected'],
      [7, 'created'],
    ]);
    expect(report.rows[1].errors).toEqual([{ path: 'row 3/price', message: '"12.345" is not an amount in yuan with at most 2 decimals' }]);
    expect(report.rows[2].errors).toEqual([{ path: 'row 4/skuCode', message: 'no SKU with code NO-SUCH-SKU' }]);
    expect(report.rows[3].errors[0].path).toBe('row 5/effectiveAt');
    expect(report.rows[4].errors[0].path).toBe('row 6/source');

    // Dates without a zone are Shanghai time: 2026-11-20 00:00 +08:00.
    const history = await ok(call(app, 'GET', `/v1/skus/${sku.id}/prices`, { key: w.supplier.key }));
    expect(history.items.map((p: { priceFen: number; effectiveAt: string; source: string }) => [p.priceFen, p.effectiveAt, p.source])).toEqual([
      [123_450, '2026-11-19T16:00:00.000Z', '上海钢联'],
      [130_000, '2026-11-21T07:00:00.000Z', 'SHFE'],
    ]);
    const resent = await ok(call(app, 'POST', '/v1/prices/csv', { key: w.credit.key, rawBody: csv, contentType: 'text/csv' }));
    expect(resent.rows.filter((r: { outcome: string }) => r.outcome !== 'rejected').map((r: { outcome: string }) => r.outcome)).toEqual(['unchanged', 'unchanged']);
    expect((await ok(call(app, 'GET', `/v1/skus/${sku.id}/prices`, { key: w.credit.key }))).items).toHaveLength(2);

    // Chinese headers, as a price feed exports them.
    const zh = await ok(call(app, 'POST', '/v1/prices/csv', { key: w.credit.key, rawBody: `商品编码,单价,生效时间,来源\n${sku.code},1400.00,2026/11/22,我的钢铁网`, contentType: 'text/csv' }));
    expect(zh).toMatchObject({ accepted: 1, rejected: 0 });

    // A file that is not a price list is refused whole.
    expect(expectProblem(await call(app, 'POST', '/v1/prices/csv', { key: w.credit.key, rawBody: 'foo,bar\n1,2', contentType: 'text/csv' }), 400, 'validation_failed').detail).toMatch(/lacks skuCode, price, effectiveAt, source/);
    expectProblem(await call(app, 'POST', '/v1/prices/csv', { key: w.credit.key, rawBody: 'sku_code,price,effective_at,source\n', contentType: 'text/csv' }), 400, 'validation_failed');
    expectProblem(await call(app, 'POST', '/v1/prices/csv', { key: w.credit.key, body: { rows: [] } }), 415, 'unsupported_media_type');
  });
});

describe('tenancy, roles and input on every collateral endpoint', () => {
  let w: CollateralWorld;
  let other: CollateralWorld; // another bank, supplier, program, operator and warehouse
  let ids: { warehouseId: string; skuId: string; pledgeId: string; releaseOrderId: string; programId: string; lineId: string };
  const window = { validFrom: '2026-11-22T00:00:00Z', validTo: '2026-11-29T00:00:00Z' };

  beforeAll(async () => {
    w = await collateralWorld(app, f);
    other = await collateralWorld(app, f);
    const p = await ok(pledge(app, w, [{ lotCode: 'M-1', skuCode: w.sku.code, quantity: 100, tagIds: [uniqCode('T')] }]), 201);
    const o = await ok(call(app, 'POST', `/v1/pledges/${p.id}/release-orders`, { key: w.credit.key, body: { lotCode: 'M-1', quantity: 10, ...window } }), 201);
    await ok(pledge(app, other, [{ lotCode: 'M-1', skuCode: other.sku.code, quantity: 100 }]), 201);
    ids = { warehouseId: w.warehouse.id, skuId: w.sku.id, pledgeId: p.id, releaseOrderId: o.id, programId: w.program.id, lineId: w.line.id };
  });

  it("another tenant's warehouse, program, pledge, release order and line answer 404", async () => {
    const pledgeBody = { creditLineId: ids.lineId, warehouseId: ids.warehouseId, lots: [{ lotCode: 'X-1', skuCode: w.sku.code, quantity: 1, zone: 'A1' }] };
    const terms = { warningLineBp: 13_000, liquidationLineBp: 11_000, priceMaxAgeHours: 48 };
    const cases: [string, string, string, unknown?][] = [
      [other.operator.key, 'GET', `/v1/warehouses/${ids.warehouseId}`],
      [other.credit.key, 'GET', `/v1/warehouses/${ids.warehouseId}`], // no pledge of its own there
      [other.supplier.key, 'GET', `/v1/warehouses/${ids.warehouseId}`],
      [other.operator.key, 'PUT', `/v1/warehouses/${ids.warehouseId}/zones`, { zones: ['Z'] }],
      [other.operator.key, 'GET', `/v1/warehouses/${ids.warehouseId}/positions`],
      [other.credit.key, 'GET', `/v1/warehouses/${ids.warehouseId}/positions`],
      [other.credit.key, 'PUT', `/v1/programs/${ids.programId}/collateral-terms`, terms],
      [other.credit.key, 'GET', `/v1/programs/${ids.programId}/collateral-terms`],
      [other.credit.key, 'POST', '/v1/pledges', pledgeBody],
      [other.credit.key, 'GET', `/v1/pledges/${ids.pledgeId}`],
      [other.supplier.key, 'GET', `/v1/pledges/${ids.pledgeId}`],
      [other.operator.key, 'GET', `/v1/pledges/${ids.pledgeId}`],
      [w.core.key, 'GET', `/v1/pledges/${ids.pledgeId}`],
      [other.credit.key, 'POST', `/v1/pledges/${ids.pledgeId}/release`, { reason: 'x' }],
      [other.credit.key, 'GET', `/v1/pledges/${ids.pledgeId}/positions`],
      [other.operator.key, 'GET', `/v1/pledges/${ids.pledgeId}/positions`],
      [other.credit.key, 'POST', `/v1/pledges/${ids.pledgeId}/release-orders`, { lotCode: 'M-1', quantity: 1, ...window }],
      [other.credit.key, 'GET', `/v1/pledges/${ids.pledgeId}/release-orders`],
      [other.credit.key, 'GET', `/v1/release-orders/${ids.releaseOrderId}`],
      [other.operator.key, 'GET', `/v1/release-orders/${ids.releaseOrderId}`],
      [other.credit.key, 'POST', `/v1/release-orders/${ids.releaseOrderId}/cancel`, { reason: 'x' }],
      [other.credit.key, 'GET', `/v1/credit-lines/${ids.lineId}/coverage`],
      [other.supplier.key, 'GET', `/v1/credit-lines/${ids.lineId}/coverage`],
      [w.operator.key, 'GET', `/v1/credit-lines/${ids.lineId}/coverage`], // holds the goods, not a party to the loan
      [w.credit.key, 'GET', `/v1/skus/${randomUUID()}`],
      [w.credit.key, 'GET', `/v1/skus/${randomUUID()}/prices`],
      [w.credit.key, 'POST', `/v1/skus/${randomUUID()}/prices`, { priceFen: 1, effectiveAt: '2026-11-22T00:00:00Z', source: 'x' }],
    ];
    for (const [key, method, path, body] of cases) {
      const res = await call(app, method, path, { key, body });
      if (res.status !== 404) throw new Error(`${method} ${path} answered ${res.status}: ${res.text}`);
      expectProblem(res, 404, 'not_found');
    }
  });

  it('lists show nothing of another tenant', async () => {
    const lists: [string, string, string][] = [
      [other.credit.key, '/v1/pledges?limit=200', ids.pledgeId],
      [other.supplier.key, '/v1/pledges?limit=200', ids.pledgeId],
      [other.operator.key, '/v1/pledges?limit=200', ids.pledgeId],
      [w.core.key, '/v1/pledges?limit=200', ids.pledgeId],
      [other.credit.key, '/v1/warehouses?limit=200', ids.warehouseId],
      [other.operator.key, '/v1/warehouses?limit=200', ids.warehouseId],
      [w.core.key, '/v1/warehouses?limit=200', ids.warehouseId],
    ];
    for (const [key, path, id] of lists) expect(JSON.stringify((await ok(call(app, 'GET', path, { key }))).items)).not.toContain(id);
    for (const key of [w.credit.key, w.supplier.key, w.operator.key]) {
      expect(JSON.stringify((await ok(call(app, 'GET', '/v1/pledges?limit=200', { key }))).items)).toContain(ids.pledgeId);
      expect(JSON.stringify((await ok(call(app, 'GET', '/v1/warehouses?limit=200', { key }))).items)).toContain(ids.warehouseId);
    }
    const admin = await ok(call(app, 'GET', `/v1/pledges?warehouseId=${ids.warehouseId}&status=active`, { key: w.admin.key }));
    expect(admin.items.map((p: { id: string }) => p.id)).toContain(ids.pledgeId);
  });

  it('a role that may not act gets 403', async () => {
    const sku = { code: uniqCode('S'), name: 'x', unit: 'kg', nominalUnitWeightGrams: 1, toleranceBp: 0, haircutBp: 0 };
    const price = { priceFen: 1, effectiveAt: '2026-11-22T00:00:00Z', source: 'x' };
    const terms = { warningLineBp: 13_000, liquidationLineBp: 11_000, priceMaxAgeHours: 48 };
    const pledgeBody = { creditLineId: ids.lineId, warehouseId: ids.warehouseId, lots: [{ lotCode: 'X-1', skuCode: w.sku.code, quantity: 1, zone: 'A1' }] };
    const cases: [string, string, string, unknown?][] = [
      [w.credit.key, 'POST', '/v1/warehouses', { name: 'x', address: 'x', zones: ['A'] }],
      [w.supplier.key, 'POST', '/v1/warehouses', { name: 'x', address: 'x', zones: ['A'] }],
      [w.credit.key, 'PUT', `/v1/warehouses/${ids.warehouseId}/zones`, { zones: ['A1'] }], // sees it through its pledge, may not change it
      [w.supplier.key, 'POST', '/v1/skus', sku],
      [w.core.key, 'POST', '/v1/skus', sku],
      [w.risk.key, 'POST', '/v1/skus', sku],
      [w.operator.key, 'POST', `/v1/skus/${ids.skuId}/prices`, price],
      [w.supplier.key, 'POST', `/v1/skus/${ids.skuId}/prices`, price],
      [w.risk.key, 'POST', `/v1/skus/${ids.skuId}/prices`, price],
      [w.core.key, 'PUT', `/v1/programs/${ids.programId}/collateral-terms`, terms],
      [w.risk.key, 'PUT', `/v1/programs/${ids.programId}/collateral-terms`, terms],
      [w.supplier.key, 'POST', '/v1/pledges', pledgeBody],
      [w.risk.key, 'POST', '/v1/pledges', pledgeBody],
      [w.operator.key, 'POST', '/v1/pledges', pledgeBody],
      [w.supplier.key, 'POST', `/v1/pledges/${ids.pledgeId}/release`, { reason: 'x' }],
      [w.risk.key, 'POST', `/v1/pledges/${ids.pledgeId}/release`, { reason: 'x' }],
      [w.operator.key, 'POST', `/v1/pledges/${ids.pledgeId}/release-orders`, { lotCode: 'M-1', quantity: 1, ...window }],
      [w.supplier.key, 'POST', `/v1/pledges/${ids.pledgeId}/release-orders`, { lotCode: 'M-1', quantity: 1, ...window }],
      [w.risk.key, 'POST', `/v1/release-orders/${ids.releaseOrderId}/cancel`, { reason: 'x' }],
      [w.operator.key, 'POST', `/v1/release-orders/${ids.releaseOrderId}/cancel`, { reason: 'x' }],
      [w.supplier.key, 'GET', '/v1/quarantine'],
      [w.core.key, 'GET', '/v1/quarantine'],
      [w.supplier.key, 'GET', '/v1/signals'],
      [w.operator.key, 'GET', '/v1/signals'],
    ];
    for (const [key, method, path, body] of cases) {
      const res = await call(app, method, path, { key, body });
      if (res.status !== 403) throw new Error(`${method} ${path} answered ${res.status}: ${res.text}`);
      expectProblem(res, 403, 'forbidden');
    }
    expectProblem(await call(app, 'POST', '/v1/prices/csv', { key: w.supplier.key, rawBody: 'sku_code,price,effective_at,source\nX,1,2026-11-22,x', contentType: 'text/csv' }), 403, 'forbidden');
    // Nothing moved.
    expect((await ok(call(app, 'GET', `/v1/pledges/${ids.pledgeId}`, { key: w.credit.key }))).status).toBe('active');
    expect((await ok(call(app, 'GET', `/v1/release-orders/${ids.releaseOrderId}`, { key: w.credit.key }))).status).toBe('open');
  });

  it('no key: 401 on every collateral endpoint', async () => {
    const paths: [string, string][] = [
      ['POST', '/v1/warehouses'],
      ['GET', '/v1/warehouses'],
      ['GET', `/v1/warehouses/${ids.warehouseId}`],
      ['PUT', `/v1/warehouses/${ids.warehouseId}/zones`],
      ['GET', `/v1/warehouses/${ids.warehouseId}/positions`],
      ['POST', '/v1/skus'],
      ['GET', '/v1/skus'],
      ['GET', `/v1/skus/${ids.skuId}`],
      ['POST', `/v1/skus/${ids.skuId}/prices`],
      ['GET', `/v1/skus/${ids.skuId}/prices`],
      ['POST', '/v1/prices/csv'],
      ['PUT', `/v1/programs/${ids.programId}/collateral-terms`],
      ['GET', `/v1/programs/${ids.programId}/collateral-terms`],
      ['POST', '/v1/pledges'],
      ['GET', '/v1/pledges'],
      ['GET', `/v1/pledges/${ids.pledgeId}`],
      ['POST', `/v1/pledges/${ids.pledgeId}/release`],
      ['GET', `/v1/pledges/${ids.pledgeId}/positions`],
      ['POST', `/v1/pledges/${ids.pledgeId}/release-orders`],
      ['GET', `/v1/pledges/${ids.pledgeId}/release-orders`],
      ['GET', `/v1/release-orders/${ids.releaseOrderId}`],
      ['POST', `/v1/release-orders/${ids.releaseOrderId}/cancel`],
      ['GET', `/v1/credit-lines/${ids.lineId}/coverage`],
      ['GET', '/v1/quarantine'],
      ['GET', '/v1/signals'],
    ];
    for (const [method, path] of paths) expectProblem(await call(app, method, path, method === 'GET' ? {} : { body: {} }), 401, 'unauthenticated');
    expectProblem(await call(app, 'GET', '/v1/pledges', { key: 'tf_live_not-a-real-key' }), 401, 'unauthenticated');
  });

  it('bad input is refused with every field named', async () => {
    const window2 = { validFrom: '2026-11-22T00:00:00Z', validTo: '2026-11-23T00:00:00Z' };
    const bad: [string, string, string, unknown, string[]][] = [
      [w.operator.key, 'POST', '/v1/warehouses', { name: '', address: 7, zones: ['A', 'bad zone'] }, ['body/name', 'body/address', 'body/zones/1']],
      [w.operator.key, 'POST', '/v1/warehouses', { name: 'x', address: 'x', zones: ['A', 'A'] }, ['body/zones']],
      [w.operator.key, 'PUT', `/v1/warehouses/${ids.warehouseId}/zones`, { zones: [] }, ['body/zones']],
      [w.credit.key, 'POST', '/v1/skus', { code: 'bad code!', name: '', unit: '', nominalUnitWeightGrams: 0, toleranceBp: 10_001, haircutBp: -1 }, ['body/code', 'body/name', 'body/unit', 'body/nominalUnitWeightGrams', 'body/toleranceBp', 'body/haircutBp']],
      [w.credit.key, 'POST', `/v1/skus/${ids.skuId}/prices`, { priceFen: 0, effectiveAt: '2026-11-22', source: '' }, ['body/priceFen', 'body/effectiveAt', 'body/source']],
      [w.credit.key, 'POST', `/v1/skus/${ids.skuId}/prices`, { priceFen: 1.5, effectiveAt: '2026-11-22T00:00:00', source: 'x' }, ['body/priceFen', 'body/effectiveAt']],
      [w.credit.key, 'PUT', `/v1/programs/${ids.programId}/collateral-terms`, { haircutBp: 10_001, warningLineBp: 0, liquidationLineBp: 'x', priceMaxAgeHours: 0 }, ['body/haircutBp', 'body/warningLineBp', 'body/liquidationLineBp', 'body/priceMaxAgeHours']],
      [w.credit.key, 'PUT', `/v1/programs/${ids.programId}/collateral-terms`, { warningLineBp: 11_000, liquidationLineBp: 11_000, priceMaxAgeHours: 24 }, ['body/liquidationLineBp']],
      [w.credit.key, 'POST', '/v1/pledges', { creditLineId: 'x', warehouseId: 'y', lots: [] }, ['body/creditLineId', 'body/warehouseId', 'body/lots']],
      [w.credit.key, 'POST', '/v1/pledges', { creditLineId: ids.lineId, warehouseId: ids.warehouseId, lots: [{ lotCode: '', skuCode: w.sku.code, quantity: 0, zone: 'A1', tagIds: ['ok', 'no spaces'] }] }, ['body/lots/0/lotCode', 'body/lots/0/quantity', 'body/lots/0/tagIds/1']],
      [w.credit.key, 'POST', '/v1/pledges', { creditLineId: ids.lineId, warehouseId: ids.warehouseId, lots: [{ lotCode: 'D', skuCode: w.sku.code, quantity: 1, zone: 'A1', tagIds: ['T'] }, { lotCode: 'D', skuCode: w.sku.code, quantity: 1, zone: 'A1', tagIds: ['T'] }] }, ['body/lots/1/lotCode', 'body/lots/1/tagIds/0']],
      [w.credit.key, 'POST', '/v1/pledges', { creditLineId: ids.lineId, warehouseId: ids.warehouseId, lots: [{ lotCode: 'N-1', skuCode: 'NO-SUCH', quantity: 1, zone: 'Z9' }] }, ['body/lots/0/skuCode', 'body/lots/0/zone']],
      [w.credit.key, 'POST', '/v1/pledges', { creditLineId: ids.lineId, warehouseId: randomUUID(), lots: [{ lotCode: 'N-1', skuCode: w.sku.code, quantity: 1, zone: 'A1' }] }, ['body/warehouseId']],
      [w.credit.key, 'POST', `/v1/pledges/${ids.pledgeId}/release-orders`, { lotCode: '', quantity: 0, validFrom: 'soon', validTo: 'later' }, ['body/lotCode', 'body/quantity', 'body/validFrom', 'body/validTo']],
      [w.credit.key, 'POST', `/v1/pledges/${ids.pledgeId}/release-orders`, { lotCode: 'M-1', quantity: 1, validFrom: '2026-11-23T00:00:00Z', validTo: '2026-11-22T00:00:00Z' }, ['body/validTo']],
      [w.credit.key, 'POST', `/v1/pledges/${ids.pledgeId}/release-orders`, { lotCode: 'M-1', quantity: 1, validFrom: '2026-11-20T00:00:00Z', validTo: '2026-11-21T00:00:00Z' }, ['body/validTo']],
      [w.credit.key, 'POST', `/v1/pledges/${ids.pledgeId}/release-orders`, { lotCode: 'NOT-HERE', quantity: 1, ...window2 }, ['body/lotCode']],
      [w.credit.key, 'POST', `/v1/pledges/${ids.pledgeId}/release`, { reason: '' }, ['body/reason']],
      [w.credit.key, 'POST', `/v1/release-orders/${ids.releaseOrderId}/cancel`, {}, ['body/reason']],
      [w.credit.key, 'GET', '/v1/pledges?status=pending&creditLineId=nope', undefined, ['query/status', 'query/creditLineId']],
      [w.credit.key, 'GET', '/v1/signals?status=closed', undefined, ['query/status']],
      [w.operator.key, 'GET', '/v1/quarantine?warehouseId=nope', undefined, ['query/warehouseId']],
      [w.credit.key, 'GET', '/v1/warehouses/not-a-uuid', undefined, ['path/warehouseId']],
      [w.credit.key, 'GET', '/v1/pledges/not-a-uuid/positions', undefined, ['path/pledgeId']],
      [w.credit.key, 'GET', '/v1/credit-lines/not-a-uuid/coverage', undefined, ['path/creditLineId']],
      [w.credit.key, 'GET', '/v1/skus?cursor=garbage', undefined, ['query/cursor']],
    ];
    for (const [key, method, path, body, paths] of bad) {
      const res = await call(app, method, path, { key, body });
      if (res.status !== 400) throw new Error(`${method} ${path} answered ${res.status}: ${res.text}`);
      const problem = expectProblem(res, 400, 'validation_failed');
      expect(problem.errors.map((e: { path: string }) => e.path), `${method} ${path}`).toEqual(expect.arrayContaining(paths));
    }
    expectProblem(await call(app, 'POST', '/v1/skus', { key: w.credit.key, body: { code: w.sku.code, name: 'x', unit: 'kg', nominalUnitWeightGrams: 1, toleranceBp: 0, haircutBp: 0 } }), 409, 'conflict');
    expectProblem(await call(app, 'POST', '/v1/pledges', { key: w.credit.key, rawBody: 'creditLineId=x', contentType: 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type');
  });

  it('quarantine and signals: each side sees its own', async () => {
    const q = async (warehouseId: string | null, reason: string) =>
      (await database.sql<{ id: string }[]>`insert into quarantine (topic, payload, reason, detail, warehouse_id, received_at) values ('tf/v1/devices/x/movement', '{}', ${reason}, 'test', ${warehouseId}, now()) returning id`)[0]!.id;
    const mine = await q(ids.warehouseId, 'bad_signature');
    const theirs = await q(other.warehouse.id, 'bad_signature');
    const orphanReason = `unknown_device_${randomUUID()}`;
    const orphan = await q(null, orphanReason);
    const signal = async (bankId: string, rule: string, minutesAgo: number) => {
      const subjectId = randomUUID();
      const at = new Date(Date.now() - minutesAgo * 60_000);
      const [row] = await database.sql<{ id: string }[]>`insert into signals (rule, subject_type, subject_id, bank_organization_id, severity, evidence, first_seen_at, last_seen_at) values (${rule}, 'pledge', ${subjectId}, ${bankId}, 'red', ${JSON.stringify({ lotCode: 'M-1' })}::jsonb, ${at.toISOString()}, ${at.toISOString()}) returning id`;
      return { id: row!.id, subjectId };
    };
    const s1 = (await signal(w.credit.organizationId, 'unauthorized_outbound', 3)).id;
    const s2 = (await signal(w.credit.organizationId, 'device_offline', 2)).id;
    const theirSignal = await signal(other.credit.organizationId, 'unauthorized_outbound', 1);
    const s3 = theirSignal.id;

    const seen = async (key: string, path: string) => (await ok(call(app, 'GET', path, { key }))).items.map((i: { id: string }) => i.id) as string[];
    expect(await seen(w.operator.key, '/v1/quarantine?limit=200')).toEqual([mine]);
    expect(await seen(w.risk.key, '/v1/quarantine?limit=200')).toEqual([mine]); // a bank with an active pledge there
    expect(await seen(other.credit.key, `/v1/quarantine?warehouseId=${ids.warehouseId}`)).toEqual([]);
    expect(await seen(w.admin.key, `/v1/quarantine?reason=${orphanReason}`)).toEqual([orphan]);
    expect(await seen(w.operator.key, `/v1/quarantine?reason=${orphanReason}`)).toEqual([]);
    expect(await seen(other.operator.key, '/v1/quarantine?limit=200')).toEqual([theirs]);
    const row = (await ok(call(app, 'GET', '/v1/quarantine', { key: w.operator.key }))).items[0];
    expect(row).toMatchObject({ id: mine, reason: 'bad_signature', topic: 'tf/v1/devices/x/movement', payload: '{}', warehouseId: ids.warehouseId });

    expect(await seen(w.risk.key, '/v1/signals?limit=200')).toEqual([s1, s2]);
    expect(await seen(w.credit.key, '/v1/signals?rule=device_offline&status=open')).toEqual([s2]);
    expect(await seen(w.credit.key, '/v1/signals?status=resolved')).toEqual([]);
    expect(await seen(other.risk.key, '/v1/signals?limit=200')).toEqual([s3]);
    expect(await seen(w.admin.key, `/v1/signals?subjectId=${theirSignal.subjectId}`)).toEqual([s3]);
    expect(await seen(w.credit.key, `/v1/signals?subjectId=${theirSignal.subjectId}`)).toEqual([]);
    const page1 = await ok(call(app, 'GET', '/v1/signals?limit=1', { key: w.risk.key }));
    const page2 = await ok(call(app, 'GET', `/v1/signals?limit=1&cursor=${page1.nextCursor}`, { key: w.risk.key }));
    expect([page1.items[0].id, page2.items[0].id]).toEqual([s1, s2]);
    expect(page1.items[0]).toMatchObject({ rule: 'unauthorized_outbound', severity: 'red', status: 'open', evidence: { lotCode: 'M-1' }, occurrences: 1 });
  });
});

describe('Idempotency-Key on the goods and money POSTs: a retry replays, nothing happens twice', () => {
  it('pledges, release orders, prices (JSON and CSV), release and cancel', async () => {
    const w = await collateralWorld(app, f);
    const twice = async (key: string, path: string, body: unknown, idem: string, contentType?: string) => {
      const rawBody = typeof body === 'string' ? body : undefined;
      const send = () => call(app, 'POST', path, { key, body: rawBody === undefined ? body : undefined, rawBody, contentType, headers: { 'idempotency-key': idem } });
      const first = await send();
      const second = await send();
      expect(first.status, first.text).toBeLessThan(300);
      expect(second.status).toBe(first.status);
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      expect(second.text).toBe(first.text);
      return first.body;
    };
    const lot = uniqCode('IDEM');
    const body = { creditLineId: w.line.id, warehouseId: w.warehouse.id, lots: [{ lotCode: lot, skuCode: w.sku.code, quantity: 40, zone: 'A1', tagIds: [uniqCode('T')] }] };
    const p = await twice(w.credit.key, '/v1/pledges', body, 'pledge-1');
    // Same key, other body: 422, nothing written.
    expectProblem(await call(app, 'POST', '/v1/pledges', { key: w.credit.key, body: { ...body, lots: [{ ...body.lots[0]!, quantity: 41 }] }, headers: { 'idempotency-key': 'pledge-1' } }), 422, 'idempotency_key_reused');
    const order = await twice(w.credit.key, `/v1/pledges/${p.id}/release-orders`, { lotCode: lot, quantity: 15, validFrom: '2026-11-22T00:00:00Z', validTo: '2026-11-23T00:00:00Z' }, 'ro-1');
    await twice(w.credit.key, `/v1/skus/${w.sku.id}/prices`, { priceFen: 21_000, effectiveAt: '2026-11-22T09:30:00+08:00', source: 'manual' }, 'price-1');
    await twice(w.credit.key, '/v1/prices/csv', `sku_code,price,effective_at,source\n${w.sku.code},212.00,2026-11-22 09:45,manual`, 'price-csv-1', 'text/csv');
    await twice(w.credit.key, `/v1/release-orders/${order.id}/cancel`, { reason: 'not needed' }, 'cancel-1');
    await twice(w.credit.key, `/v1/pledges/${p.id}/release`, { reason: 'repaid' }, 'release-1');

    const [counts] = await database.sql<{ pledges: number; orders: number; prices: number; audits: number }[]>`
      select (select count(*)::int from pledges where credit_line_id = ${w.line.id}) as pledges,
             (select count(*)::int from release_orders where pledge_id = ${p.id}) as orders,
             (select count(*)::int from sku_prices where sku_id = ${w.sku.id}) as prices,
             (select count(*)::int from audit_events where subject_id = ${p.id}) as audits`;
    expect(counts).toEqual({ pledges: 1, orders: 1, prices: 3, audits: 2 }); // setup price + JSON + CSV; created + released
  });
});
