import { randomBytes } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { pledgeLots, pledges, releaseOrders, telemetryEvents } from '../../src/db/schema';
import { systemClock } from '../../src/lib/clock';
import { evaluateDeviceEvent, uncheckedEvents } from '../../src/modules/collateral/realtime';
import { raiseSignal } from '../../src/modules/warnings/signals';
import { ingestBatch } from '../../src/modules/devices/ingest';
import { call, factories, services, testApp } from '../support/harness';
import { deviceMessage, ensureSku, warehouseWithDevice } from '../support/devices';
import { financingWorld } from '../support/financing';

const secretKey = randomBytes(32);

async function pledgedLotWithRelease(releaseQuantity: number) {
  const { database } = await services();
  const f = await factories();
  const operator = await f.actor('warehouse_operator');
  const dev = await warehouseWithDevice(database, operator, secretKey);
  const { app } = await testApp();
  const w = await financingWorld(app, f);
  const sku = await ensureSku(database, 'COIL-A');
  const [pledge] = await database.db
    .insert(pledges)
    .values({ reference: `PL-${randomBytes(3).toString('hex')}`, bankOrganizationId: w.credit.organizationId, supplierOrganizationId: w.supplier.organizationId, creditLineId: w.line.id, warehouseId: dev.warehouse.id, createdAt: new Date() })
    .returning();
  const lot = `L-${randomBytes(3).toString('hex')}`;
  await database.db.insert(pledgeLots).values({ pledgeId: pledge!.id, warehouseId: dev.warehouse.id, lotCode: lot, skuId: sku.id, zone: 'A', tagIds: [], pledgedQuantity: 1000 });
  const [order] = await database.db
    .insert(releaseOrders)
    .values({ pledgeId: pledge!.id, lotCode: lot, quantity: releaseQuantity, validFrom: new Date(Date.now() - 60_000), validTo: new Date(Date.now() + 3_600_000), createdAt: new Date(), createdBy: w.credit.userId })
    .returning();
  return { database, dev, pledge: pledge!, lot, order: order!, w, app };
}

describe('real-time checks are exactly-once and never lost', () => {
  it('evaluating the same outbound event again (a retried job) consumes its release order once', async () => {
    const { database, dev, pledge, lot, order } = await pledgedLotWithRelease(60);
    const m = deviceMessage(dev.device.id, dev.secret, 1, 'movement', { direction: 'out', lotCode: lot, skuCode: 'COIL-A', quantity: 30 });
    const result = await ingestBatch(database.db, { secretKey, maxClockSkewSeconds: 300, maxMessageAgeSeconds: 86_400 }, [{ topic: m.topic, payload: Buffer.from(m.payload), receivedAt: new Date() }]);
    expect(result.followUps).toEqual([{ deviceId: dev.device.id, seq: 1, kind: 'movement', outbound: true }]);
    for (let i = 0; i < 3; i++) await evaluateDeviceEvent(database.db, systemClock, { deviceId: dev.device.id, seq: 1 });
    const [after] = await database.db.select().from(releaseOrders).where(eq(releaseOrders.id, order.id));
    expect(after).toMatchObject({ releasedQuantity: 30, status: 'open' });
    expect(await database.sql`select 1 from signals where subject_id = ${pledge.id}`).toHaveLength(0);
  });

  it('under blockReleaseOnRed, an open red signal stops goods leaving even on an order issued before it; they count as unauthorized', async () => {
    const { database, dev, pledge, lot, order, w, app } = await pledgedLotWithRelease(60);
    await call(app, 'PUT', `/v1/programs/${w.program.id}/warning-policy`, { key: w.risk.key, body: { freezeLineOnRed: false, blockReleaseOnRed: true, makerCheckerOnRed: false } });
    const red = await raiseSignal(database.db, new Date(), { rule: 'repeated_refusals', subjectType: 'supplier', subjectId: w.supplier.organizationId, bankOrganizationId: w.credit.organizationId, severity: 'red', evidence: {} });
    const m = deviceMessage(dev.device.id, dev.secret, 1, 'movement', { direction: 'out', lotCode: lot, skuCode: 'COIL-A', quantity: 30 });
    await ingestBatch(database.db, { secretKey, maxClockSkewSeconds: 300, maxMessageAgeSeconds: 86_400 }, [{ topic: m.topic, payload: Buffer.from(m.payload), receivedAt: new Date() }]);
    expect(await evaluateDeviceEvent(database.db, systemClock, { deviceId: dev.device.id, seq: 1 })).toContainEqual({ rule: 'unauthorized_outbound', severity: 'red' });
    const [after] = await database.db.select().from(releaseOrders).where(eq(releaseOrders.id, order.id));
    expect(after!.releasedQuantity).toBe(0); // the order was not used
    const [signal] = await database.sql<{ evidence: { releaseBlockedBySignals: string[] } }[]>`select evidence from signals where subject_id = ${pledge.id} and rule = 'unauthorized_outbound'`;
    expect(signal!.evidence.releaseBlockedBySignals).toEqual([red.id]);
    const [event] = await database.db.select().from(telemetryEvents).where(and(eq(telemetryEvents.deviceId, dev.device.id), eq(telemetryEvents.seq, 1)));
    expect(event!.unauthorizedPledgeId).toBe(pledge.id);
  });

  it('a rule the program switched off raises nothing in real time, but the fact is kept for the night', async () => {
    const { database, dev, pledge, lot, w, app } = await pledgedLotWithRelease(10);
    expect((await call(app, 'PUT', `/v1/programs/${w.program.id}/warning-rules/unauthorized_outbound`, { key: w.risk.key, body: { enabled: false, params: {} } })).status).toBe(200);
    const m = deviceMessage(dev.device.id, dev.secret, 1, 'movement', { direction: 'out', lotCode: lot, skuCode: 'COIL-A', quantity: 500 });
    await ingestBatch(database.db, { secretKey, maxClockSkewSeconds: 300, maxMessageAgeSeconds: 86_400 }, [{ topic: m.topic, payload: Buffer.from(m.payload), receivedAt: new Date() }]);
    expect(await evaluateDeviceEvent(database.db, systemClock, { deviceId: dev.device.id, seq: 1 })).not.toContainEqual(expect.objectContaining({ rule: 'unauthorized_outbound' }));
    expect(await database.sql`select 1 from signals where subject_id = ${pledge.id} and rule = 'unauthorized_outbound'`).toHaveLength(0);
    const [event] = await database.db.select().from(telemetryEvents).where(and(eq(telemetryEvents.deviceId, dev.device.id), eq(telemetryEvents.seq, 1)));
    expect(event!.unauthorizedPledgeId).toBe(pledge.id);
  });

  it('an event whose job was never enqueued is found by the outbox sweep and evaluated', async () => {
    const { database, dev, pledge, lot } = await pledgedLotWithRelease(10);
    const m = deviceMessage(dev.device.id, dev.secret, 1, 'movement', { direction: 'out', lotCode: lot, skuCode: 'COIL-A', quantity: 500 });
    await ingestBatch(database.db, { secretKey, maxClockSkewSeconds: 300, maxMessageAgeSeconds: 86_400 }, [{ topic: m.topic, payload: Buffer.from(m.payload), receivedAt: new Date() }]);
    // Redis was down: no job. The sweep finds it.
    const pending = await uncheckedEvents(database.db, new Date(Date.now() + 1000), 10_000);
    expect(pending).toContainEqual({ deviceId: dev.device.id, seq: 1 });
    await evaluateDeviceEvent(database.db, systemClock, { deviceId: dev.device.id, seq: 1 });
    const [event] = await database.db.select().from(telemetryEvents).where(and(eq(telemetryEvents.deviceId, dev.device.id), eq(telemetryEvents.seq, 1)));
    expect(event!.checkedAt).not.toBeNull();
    expect((await uncheckedEvents(database.db, new Date(Date.now() + 1000), 10_000)).some((e) => e.deviceId === dev.device.id)).toBe(false);
    expect(await database.sql`select rule from signals where subject_id = ${pledge.id}`).toEqual([{ rule: 'unauthorized_outbound' }]);
  });

  it('a pledged lot missing from a zone count is a shortfall; a later milder reading never lowers a red signal', async () => {
    const { database, dev, pledge, lot } = await pledgedLotWithRelease(10);
    const count = deviceMessage(dev.device.id, dev.secret, 1, 'count', { zone: 'A', counts: [{ lotCode: 'SOMETHING-ELSE', skuCode: 'COIL-A', quantity: 5 }] });
    const over = deviceMessage(dev.device.id, dev.secret, 2, 'count', { zone: 'A', counts: [{ lotCode: lot, skuCode: 'COIL-A', quantity: 1100 }] });
    await ingestBatch(database.db, { secretKey, maxClockSkewSeconds: 300, maxMessageAgeSeconds: 86_400 }, [count, over].map((x) => ({ topic: x.topic, payload: Buffer.from(x.payload), receivedAt: new Date() })));
    await evaluateDeviceEvent(database.db, systemClock, { deviceId: dev.device.id, seq: 1 });
    await evaluateDeviceEvent(database.db, systemClock, { deviceId: dev.device.id, seq: 2 });
    const [signal] = await database.sql<{ severity: string; occurrences: number; evidence: { sensedQuantity: number } }[]>`select severity, occurrences, evidence from signals where subject_id = ${pledge.id} and rule = 'stock_count_discrepancy'`;
    expect(signal).toMatchObject({ severity: 'red', occurrences: 2, evidence: { sensedQuantity: 1100 } });
  });

  it('device credentials are never kept by Idempotency-Key (a retry issues new ones)', async () => {
    const { database } = await services();
    const f = await factories();
    const operator = await f.actor('warehouse_operator');
    const dev = await warehouseWithDevice(database, operator, secretKey);
    const { app } = await testApp({ deviceSecretKey: secretKey });
    const body = { warehouseId: dev.warehouse.id, kind: 'scale', name: 'scale 1' };
    const first = await call(app, 'POST', '/v1/devices', { key: operator.key, body, headers: { 'idempotency-key': 'dev-1' } });
    const second = await call(app, 'POST', '/v1/devices', { key: operator.key, body, headers: { 'idempotency-key': 'dev-1' } });
    expect(first.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBeNull();
    const stored = await database.sql`select 1 from idempotency_keys where key = 'dev-1' and organization_id = ${operator.organizationId}`;
    expect(stored).toHaveLength(0);
    expect(JSON.stringify(await database.sql`select response_body from idempotency_keys`)).not.toContain(first.body.secret);
  });
});
