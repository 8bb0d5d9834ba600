import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { financingEvents, registryChangeEvents } from '../../src/db/schema';
import { createMetrics } from '../../src/http/metrics';
import { enqueueWarningRun, startWarningJobs, warningsQueue } from '../../src/jobs/warnings';
import { fixedClock, systemClock } from '../../src/lib/clock';
import { evaluateChunk, startWarningRun } from '../../src/modules/warnings/t1-run';
import { call, factories, services, silentLog, testApp } from '../support/harness';
import { collateralWorld, movement, pledge, uniqCode } from '../support/collateral';
import { confirmedInvoice, financeThrough, ok } from '../support/financing';
import { testServices } from '../support/services';

const T = '2026-11-21';
const TZ = 'Asia/Shanghai';
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of closers) await c();
});

async function seedProblems() {
  const { app } = await testApp();
  const f = await factories();
  const w = await collateralWorld(app, f, { priceEffectiveAt: '2026-11-21T08:00:00+08:00' }); // a price in force during T
  const inv = await confirmedInvoice(app, w, 1_000_000);
  await financeThrough(app, w, [inv.id]); // 800,000 fen outstanding
  const lot = uniqCode('LOT');
  await ok(pledge(app, w, [{ lotCode: lot, skuCode: w.sku.code, quantity: 30 }]), 201);
  const { database } = await services();
  await movement(database, { warehouseId: w.warehouse.id, lotCode: lot, skuCode: w.sku.code, signedQuantity: 30 }); // 30 kg × ¥200 × 70% = ¥4,200 vs ¥8,000: 52.5%
  // Registry: a legal representative change at 23:59 on T (Shanghai) and a dishonest-debtor entry at 00:01 on T+1.
  await database.db.insert(registryChangeEvents).values([
    { creditCode: w.supplier.creditCode, type: 'legal_representative_changed', severity: 'orange', itemKey: '', before: '张三', after: '李四', detail: null, fromVersion: 1, toVersion: 2, detectedAt: new Date('2026-11-21T15:59:00Z') },
    { creditCode: w.supplier.creditCode, type: 'dishonest_debtor_added', severity: 'red', itemKey: 'X-1', before: null, after: { caseNumber: 'X-1' }, detail: null, fromVersion: 2, toVersion: 3, detectedAt: new Date('2026-11-21T16:01:00Z') },
  ]);
  await database.db.insert(financingEvents).values({ type: 'financed_invoice_cancelled', bankOrganizationId: w.credit.organizationId, supplierOrganizationId: w.supplier.organizationId, subjectType: 'invoice', subjectId: inv.id, data: { financingRequestId: 'x' }, dedupeKey: `t1:${randomBytes(4).toString('hex')}`, occurredAt: new Date('2026-11-21T03:00:00Z') });
  return { w, app, database, invoiceId: inv.id };
}

async function bankSignals(database: Awaited<ReturnType<typeof services>>['database'], bank: string) {
  return database.sql<{ rule: string; severity: string; subject_type: string; occurrences: number }[]>`select rule, severity, subject_type, occurrences from signals where bank_organization_id = ${bank} order by rule`;
}

describe('the T+1 run for business day T', () => {
  it('raises exactly the expected signals; a re-run adds no duplicates; the Shanghai day boundary holds', async () => {
    const { w, database } = await seedProblems();
    const clock = fixedClock('2026-11-22T02:00:00Z'); // 10:00 on T+1 in Shanghai
    const runOnce = async () => {
      const { run, chunks } = await startWarningRun(database.db, clock, { businessDate: T, trigger: 'cli', timeZone: TZ });
      for (const c of chunks) await evaluateChunk(database.db, clock, { runId: run.id, businessDate: T, timeZone: TZ, kind: c.kind, ids: c.ids });
      const [done] = await database.sql<{ status: string; chunks_done: number; chunks_total: number; subjects_evaluated: number }[]>`select status, chunks_done, chunks_total, subjects_evaluated from warning_runs where id = ${run.id}`;
      return done!;
    };
    const first = await runOnce();
    expect(first.status).toBe('succeeded');
    expect(first.chunks_done).toBe(first.chunks_total);
    const signals = await bankSignals(database, w.credit.organizationId);
    const byRule = signals.map((s) => `${s.rule}:${s.severity}`).filter((r) => !r.startsWith('registry_data_stale'));
    expect(byRule).toEqual(['coverage_below_lines:red', 'financed_invoice_cancelled_or_disputed:red', 'registry_legal_representative_changed:orange']);
    // 00:01 on T+1 belongs to T+1: no dishonest-debtor signal from this run.
    expect(signals.some((s) => s.rule.includes('dishonest'))).toBe(false);

    await runOnce();
    const again = await bankSignals(database, w.credit.organizationId);
    expect(again.map((s) => s.rule)).toEqual(signals.map((s) => s.rule)); // the same signals, no new rows
  });

  it('runs through BullMQ: the run is fanned out in chunks and finishes, progress visible in warning_runs', async () => {
    const { database } = await services();
    const prefix = `${inject('queuePrefix')}_t1`;
    const workerRedis = new Redis(testServices().redisUrl, { maxRetriesPerRequest: null });
    const producerRedis = new Redis(testServices().redisUrl, { maxRetriesPerRequest: 1 });
    const jobs = await startWarningJobs({ db: database.db, clock: systemClock, log: silentLog, metrics: createMetrics({ defaultMetrics: false }), workerRedis, producerRedis, prefix, timeZone: TZ, cron: '0 2 * * *' });
    const queue = warningsQueue(producerRedis, prefix);
    closers.push(async () => {
      await jobs.close();
      await queue.close();
      const keys = await producerRedis.keys(`${prefix}:*`);
      if (keys.length) await producerRedis.del(...keys);
      workerRedis.disconnect();
      producerRedis.disconnect();
    });
    const { app } = await testApp({ startWarningRun: (businessDate) => enqueueWarningRun(queue, { db: database.db, clock: systemClock, timeZone: TZ }, { businessDate, trigger: 'api' }) });
    const f = await factories();
    const risk = await f.actor('risk_officer');
    const supplier = await f.actor('supplier_user');
    expect((await call(app, 'POST', '/v1/warning-runs', { key: supplier.key, body: { businessDate: T } })).status).toBe(403);
    expect((await call(app, 'POST', '/v1/warning-runs', { key: risk.key, body: { businessDate: '2026-13-01' } })).status).toBe(400);
    const run = await ok(call(app, 'POST', '/v1/warning-runs', { key: risk.key, body: { businessDate: T } }), 202);
    expect(run).toMatchObject({ businessDate: T, trigger: 'api' });
    for (let i = 0; i < 300; i++) {
      const r = await ok(call(app, 'GET', `/v1/warning-runs/${run.id}`, { key: risk.key }));
      if (r.status === 'succeeded') {
        expect(r.chunksDone).toBe(r.chunksTotal);
        return;
      }
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error('run did not finish');
  }, 60_000);
});
