import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createMetrics } from '../../src/http/metrics';
import { connectMqtt, endMqtt } from '../../src/ingest/mqtt-client';
import { startIngestWorker } from '../../src/ingest/worker';
import { collateralQueue, enqueueEventChecks, startCollateralJobs } from '../../src/jobs/collateral';
import { systemClock } from '../../src/lib/clock';
import { ingestBatch } from '../../src/modules/devices/ingest';
import { pledgeLots, pledges, releaseOrders } from '../../src/db/schema';
import { call, factories, services, silentLog, testApp } from '../support/harness';
import { deviceMessage, ensureSku, warehouseWithDevice } from '../support/devices';
import { collateralWorld, pledge } from '../support/collateral';
import { confirmedInvoice, financeThrough, financingWorld, ok } from '../support/financing';
import { testServices } from '../support/services';

const secretKey = randomBytes(32);
const prefix = `${inject('queuePrefix')}_ingest`;
let publisher: MqttClient;
let worker: { close(): Promise<void> };
let jobs: { close(): Promise<void> };
let workerRedis: Redis;
let producerRedis: Redis;
let device: Awaited<ReturnType<typeof warehouseWithDevice>>;
let other: Awaited<ReturnType<typeof warehouseWithDevice>>;

const publish = (topic: string, payload: string | Buffer) =>
  new Promise<void>((resolve, reject) => publisher.publish(topic, payload, { qos: 1 }, (err) => (err ? reject(err) : resolve())));

async function waitFor<T>(probe: () => Promise<T | undefined | null | false>, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  const { database } = await services();
  const f = await factories();
  const operator = await f.actor('warehouse_operator');
  device = await warehouseWithDevice(database, operator, secretKey);
  other = await warehouseWithDevice(database, operator, secretKey);
  workerRedis = new Redis(testServices().redisUrl, { maxRetriesPerRequest: null });
  producerRedis = new Redis(testServices().redisUrl, { maxRetriesPerRequest: 1 });
  const metrics = createMetrics({ defaultMetrics: false });
  jobs = await startCollateralJobs({ db: database.db, clock: systemClock, log: silentLog, metrics, workerRedis, producerRedis, prefix });
  const checks = collateralQueue(producerRedis, prefix);
  worker = await startIngestWorker({
    mqtt: { url: testServices().mqttUrl, protocolVersion: 5 },
    connections: 4,
    sharedSubscription: true,
    shareGroup: `${prefix}`.slice(-40).replace(/[^A-Za-z0-9_-]/g, '_'),
    workerId: 'it',
    sessionExpirySeconds: 5,
    maxBatch: 200,
    maxWaitMs: 5,
    log: silentLog,
    commit: (batch) => ingestBatch(database.db, { secretKey, maxClockSkewSeconds: 300, maxMessageAgeSeconds: 86_400 }, batch),
    afterCommit: (result) => enqueueEventChecks(checks, result.followUps),
  });
  publisher = await connectMqtt({ url: testServices().mqttUrl, protocolVersion: 5 }, { clientId: `tf-test-pub-${randomBytes(3).toString('hex')}` });
});

afterAll(async () => {
  await endMqtt(publisher);
  await worker.close();
  await jobs.close();
  const keys = await producerRedis.keys(`${prefix}:*`);
  if (keys.length) await producerRedis.del(...keys);
  workerRedis.disconnect();
  producerRedis.disconnect();
});

async function events(deviceId: string) {
  const { database } = await services();
  return database.sql<{ seq: string; lot_code: string | null; signed_quantity: string | null }[]>`select seq, lot_code, signed_quantity from telemetry_events where device_id = ${deviceId} order by seq`;
}
async function quarantinedFor(predicate: string) {
  const { database } = await services();
  return database.sql<{ reason: string; device_id: string | null }[]>`select reason, device_id from quarantine where payload like ${`%${predicate}%`} or topic like ${`%${predicate}%`}`;
}

describe('device messages through a real Mosquitto into PostgreSQL', () => {
  it('movements are stored once each; resends, duplicates and reordering change nothing; the position is the sum', async () => {
    const d = device.device.id;
    const lot = `LOT-${randomBytes(3).toString('hex')}`;
    const msgs = [1, 2, 3, 4].map((seq) => deviceMessage(d, device.secret, seq, 'movement', { direction: seq === 3 ? 'out' : 'in', lotCode: lot, skuCode: 'COIL-A', quantity: seq * 10 }));
    // Out of order, with two resends.
    for (const i of [3, 0, 2, 1, 0, 3]) await publish(msgs[i]!.topic, msgs[i]!.payload);
    const rows = await waitFor(async () => {
      const r = await events(d);
      return r.length === 4 ? r : null;
    });
    expect(rows.map((r) => Number(r.seq))).toEqual([1, 2, 3, 4]);
    expect(rows.reduce((s, r) => s + Number(r.signed_quantity), 0)).toBe(10 + 20 - 30 + 40);
  });

  it('a message published by mosquitto_pub (a client we did not write) is ingested', async () => {
    const m = deviceMessage(device.device.id, device.secret, 100, 'heartbeat', { battery: 88 });
    await promisify(execFile)('mosquitto_pub', ['-L', `${testServices().mqttUrl}/${m.topic}`, '-q', '1', '-m', m.payload]);
    await waitFor(async () => (await events(device.device.id)).some((r) => Number(r.seq) === 100));
  });

  it('every bad message lands in quarantine with its reason and never stops the worker', async () => {
    const d = device.device.id;
    const tag = randomBytes(4).toString('hex');
    const good = (seq: number) => deviceMessage(d, device.secret, seq, 'alarm', { type: 'door', detail: tag });
    await publish(`tf/v1/devices/${d}/alarm`, `{"not json ${tag}`);
    await publish(`tf/v1/devices/${d}/alarm`, JSON.stringify({ ...good(200).message, body: { type: 'fire', detail: tag } }));
    const unknown = deviceMessage('00000000-0000-4000-8000-000000000000', device.secret, 1, 'alarm', { type: 'door', detail: tag });
    await publish(unknown.topic, unknown.payload);
    await publish(`tf/v1/devices/${d}/alarm`, JSON.stringify({ ...good(201).message, sig: 'f'.repeat(64) }));
    const foreign = good(202);
    await publish(`tf/v1/devices/${other.device.id}/alarm`, foreign.payload); // another device's topic
    const skewed = deviceMessage(d, device.secret, 203, 'alarm', { type: 'door', detail: tag }, new Date(Date.now() + 3_600_000)); // a device clock an hour ahead
    await publish(skewed.topic, skewed.payload);
    const first = good(204);
    await publish(first.topic, first.payload);
    const tampered = deviceMessage(d, device.secret, 204, 'alarm', { type: 'tamper', detail: tag });
    await publish(tampered.topic, tampered.payload); // same seq, other body
    // NUL characters: jsonb and text refuse them, so they must never reach an insert (or the batch would fail forever).
    await publish(`tf/v1/devices/${d}/alarm`, JSON.stringify({ ...good(206).message, body: { type: 'door', detail: `${tag}\u0000` } }));
    await publish(`tf/v1/devices/${d}/alarm`, Buffer.from(`{"x":"${tag}\u0000"}`.replace('\\u0000', '\u0000')));
    const reasons = await waitFor(async () => {
      const r = (await quarantinedFor(tag)).map((q) => q.reason).sort();
      return r.length >= 9 ? r : null;
    });
    expect(reasons).toEqual(['bad_signature', 'clock_skew', 'malformed_json', 'schema_violation', 'schema_violation', 'schema_violation', 'seq_replayed_with_different_body', 'topic_of_another_device', 'unknown_device']);
    // The worker still takes good messages.
    const after = good(205);
    await publish(after.topic, after.payload);
    await waitFor(async () => (await events(d)).some((r) => Number(r.seq) === 205));
  });

  it('a disabled device is quarantined', async () => {
    const { setDeviceStatus } = await import('../../src/modules/devices/registry');
    await setDeviceStatus({ ctx: other.ctx, input: { deviceId: other.device.id, status: 'disabled' } });
    const tag = randomBytes(4).toString('hex');
    const m = deviceMessage(other.device.id, other.secret, 1, 'alarm', { type: 'power', detail: tag });
    await publish(m.topic, m.payload);
    expect((await waitFor(async () => (await quarantinedFor(tag)).length ? await quarantinedFor(tag) : null))[0]!.reason).toBe('device_disabled');
  });

  it('an outbound movement of pledged goods with no release order raises unauthorized_outbound within 5 s; with one it does not', async () => {
    const { database } = await services();
    const { app } = await testApp();
    const w = await financingWorld(app, await factories());
    const sku = await ensureSku(database, 'COIL-A');
    const [pledge] = await database.db
      .insert(pledges)
      .values({ reference: `PL-${randomBytes(3).toString('hex')}`, bankOrganizationId: w.credit.organizationId, supplierOrganizationId: w.supplier.organizationId, creditLineId: w.line.id, warehouseId: device.warehouse.id, createdAt: new Date() })
      .returning();
    const lot = `PLG-${randomBytes(3).toString('hex')}`;
    await database.db.insert(pledgeLots).values({ pledgeId: pledge!.id, warehouseId: device.warehouse.id, lotCode: lot, skuId: sku.id, zone: 'A', tagIds: [], pledgedQuantity: 1000 });
    await database.db.insert(releaseOrders).values({ pledgeId: pledge!.id, lotCode: lot, quantity: 100, validFrom: new Date(Date.now() - 60_000), validTo: new Date(Date.now() + 3_600_000), createdAt: new Date(), createdBy: w.credit.userId });

    const d = device.device.id;
    const released = deviceMessage(d, device.secret, 300, 'movement', { direction: 'out', lotCode: lot, skuCode: 'COIL-A', quantity: 100 });
    await publish(released.topic, released.payload);
    const started = Date.now();
    const stolen = deviceMessage(d, device.secret, 301, 'movement', { direction: 'out', lotCode: lot, skuCode: 'COIL-A', quantity: 50 });
    await publish(stolen.topic, stolen.payload);
    const signal = await waitFor(async () => {
      const [s] = await database.sql<{ rule: string; severity: string; evidence: { seq: number; quantity: number } }[]>`select rule, severity, evidence from signals where subject_id = ${pledge!.id} and rule = 'unauthorized_outbound'`;
      return s;
    }, 5_000);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(signal).toMatchObject({ severity: 'red', evidence: { seq: 301, quantity: 50 } });
    const [order] = await database.sql<{ status: string; released_quantity: string }[]>`select status, released_quantity from release_orders where pledge_id = ${pledge!.id}`;
    expect(order).toEqual({ status: 'used', released_quantity: '100' });
  });

  it('end to end: a device registered by API reports through Mosquitto, and positions, coverage, movement history and signals follow', async () => {
    const { app } = await testApp({ deviceSecretKey: secretKey });
    const f = await factories();
    const w = await collateralWorld(app, f, { priceEffectiveAt: new Date().toISOString() });
    const inv = await confirmedInvoice(app, w, 1_000_000);
    await financeThrough(app, w, [inv.id]); // 800,000 fen outstanding
    const registered = await ok(call(app, 'POST', '/v1/devices', { key: w.operator.key, body: { warehouseId: w.warehouse.id, kind: 'rfid_gate', name: 'dock gate' } }), 201);
    const lot = `LOT-${randomBytes(3).toString('hex')}`;
    const p = await ok(pledge(app, w, [{ lotCode: lot, skuCode: w.sku.code, quantity: 100 }]), 201);

    const d = registered.device.id as string;
    const inbound = deviceMessage(d, registered.secret, 1, 'movement', { direction: 'in', lotCode: lot, skuCode: w.sku.code, quantity: 100 });
    await publish(inbound.topic, inbound.payload);
    await waitFor(async () => {
      const pos = await ok(call(app, 'GET', `/v1/pledges/${p.id}/positions`, { key: w.credit.key }));
      return JSON.stringify(pos).includes('"sensedQuantity":100') ? pos : null;
    });
    // 100 kg × ¥200.00 × (1 − 30%) = ¥14,000.00 against ¥8,000.00 outstanding: 175%.
    expect(await ok(call(app, 'GET', `/v1/credit-lines/${w.line.id}/coverage`, { key: w.credit.key }))).toMatchObject({ coverageBp: 17_500, status: 'ok' });

    const outbound = deviceMessage(d, registered.secret, 2, 'movement', { direction: 'out', lotCode: lot, skuCode: w.sku.code, quantity: 60 });
    await publish(outbound.topic, outbound.payload);
    const raised = await waitFor(async () => {
      const list = await ok(call(app, 'GET', '/v1/signals', { key: w.risk.key }));
      const rules = list.items.map((s: { rule: string }) => s.rule);
      return rules.includes('unauthorized_outbound') && rules.includes('coverage_below_lines') ? rules : null;
    });
    expect(raised).toEqual(expect.arrayContaining(['unauthorized_outbound', 'coverage_below_lines']));
    expect(await ok(call(app, 'GET', `/v1/credit-lines/${w.line.id}/coverage`, { key: w.credit.key }))).toMatchObject({ coverageBp: 7_000, status: 'liquidation' });
    const history = await ok(call(app, 'GET', `/v1/pledges/${p.id}/movements`, { key: w.supplier.key }));
    expect(history.items.map((m: { seq: number; direction: string; quantity: number }) => [m.seq, m.direction, m.quantity])).toEqual([
      [2, 'out', 60],
      [1, 'in', 100],
    ]);
    // A stock count and a weighing off the book beyond the SKU's 2 % tolerance, and a tamper alarm.
    const booked = 100; // nothing was released: the 60 out were unauthorized, the book still says 100
    const count = deviceMessage(d, registered.secret, 3, 'count', { zone: 'A1', counts: [{ lotCode: lot, skuCode: w.sku.code, quantity: 40 }] });
    const weight = deviceMessage(d, registered.secret, 4, 'weight', { lotCode: lot, skuCode: w.sku.code, grossGrams: 97_000 });
    const tamper = deviceMessage(d, registered.secret, 5, 'alarm', { type: 'tamper', detail: 'seal broken on gate 2' });
    for (const m of [count, weight, tamper]) await publish(m.topic, m.payload);
    const signals = await waitFor(async () => {
      const list = await ok(call(app, 'GET', `/v1/signals?subjectId=${p.id}`, { key: w.risk.key }));
      const byRule = new Map<string, { severity: string; evidence: Record<string, unknown> }>(list.items.map((x: { rule: string }) => [x.rule, x]));
      return ['stock_count_discrepancy', 'weight_discrepancy', 'device_alarm_tamper'].every((r) => byRule.has(r)) ? byRule : null;
    });
    expect(signals.get('stock_count_discrepancy')).toMatchObject({ severity: 'red', evidence: { bookedQuantity: booked, sensedQuantity: 40 } });
    expect(signals.get('weight_discrepancy')).toMatchObject({ severity: 'red', evidence: { bookedQuantity: booked, sensedQuantity: 97, grossGrams: 97_000 } });
    expect(signals.get('device_alarm_tamper')).toMatchObject({ severity: 'red', evidence: { alarm: 'tamper' } });
    const device = await ok(call(app, 'GET', `/v1/devices/${d}`, { key: w.operator.key }));
    expect(device.lastSeq).toBe(5);
  });
});
