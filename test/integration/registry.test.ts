import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createMetrics } from '../../src/http/metrics';
import { enqueueRegistryPull, registryQueue, startRegistryJobs } from '../../src/jobs/registry';
import { systemClock } from '../../src/lib/clock';
import { signProviderPush } from '../../src/modules/registry/provider-push';
import { httpRegistryProvider } from '../../src/modules/registry/providers';
import { sampleRecord, startRegistrySimulator, type RegistrySimulator } from '../../simulators/registry-provider';
import { call, expectProblem, factories, randomCreditCode, services, silentLog, testApp } from '../support/harness';
import { financingWorld, ok, type World } from '../support/financing';
import { testServices } from '../support/services';

const SECRET = 'test-webhook-secret-0123456789';
const prefix = `${inject('queuePrefix')}_registry`;
let sim: RegistrySimulator;
let app: Awaited<ReturnType<typeof testApp>>['app'];
let w: World;
let otherBank: World;
let jobs: { close(): Promise<void> };
let workerRedis: Redis;
let producerRedis: Redis;

const simulate = (path: string, body: unknown, method = 'POST') => fetch(`${sim.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function pullAndWait(key: string) {
  const started = await ok(call(app, 'POST', '/v1/registry/pulls', { key }), 202);
  for (let i = 0; i < 300; i++) {
    const run = await ok(call(app, 'GET', `/v1/registry/pulls/${started.id}`, { key }));
    if (run.finishedAt) return run;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('pull run did not finish in 30 s');
}

beforeAll(async () => {
  sim = await startRegistrySimulator({ token: 'sim-token' });
  const provider = httpRegistryProvider({ name: 'sim-provider', baseUrl: sim.url, token: 'sim-token', timeoutMs: 2000 });
  const { database } = await services();
  workerRedis = new Redis(testServices().redisUrl, { maxRetriesPerRequest: null });
  producerRedis = new Redis(testServices().redisUrl, { maxRetriesPerRequest: 1 });
  const diff = { shareholderRatioPoints: 5 };
  jobs = await startRegistryJobs({ db: database.db, clock: systemClock, log: silentLog, metrics: createMetrics({ defaultMetrics: false }), workerRedis, producerRedis, prefix, provider, diff, cron: '0 1 * * *', businessTz: 'Asia/Shanghai', ratePerSecond: 200 });
  const queue = registryQueue(producerRedis, prefix);
  ({ app } = await testApp({ registry: { provider: 'sim-provider', webhookSecret: SECRET, diff, startPull: (trigger) => enqueueRegistryPull(queue, { db: database.db, clock: systemClock, provider: 'sim-provider' }, trigger) } }));
  const f = await factories();
  w = await financingWorld(app, f);
  otherBank = await financingWorld(app, f);
});

afterAll(async () => {
  await jobs.close();
  const keys = await producerRedis.keys(`${prefix}:*`);
  if (keys.length) await producerRedis.del(...keys);
  workerRedis.disconnect();
  producerRedis.disconnect();
  await sim.close();
});

describe('registry monitoring over the real provider HTTP path', () => {
  it('watches the enterprises behind a bank’s exposures and those it adds', async () => {
    const list = await ok(call(app, 'GET', '/v1/registry/watch-list', { key: w.risk.key }));
    const codes = list.items.map((i: { creditCode: string }) => i.creditCode);
    expect(codes).toEqual(expect.arrayContaining([w.core.creditCode, w.supplier.creditCode]));
    expect(codes).not.toContain(otherBank.supplier.creditCode);
    expect(list.items.find((i: { creditCode: string }) => i.creditCode === w.core.creditCode).reasons[0]).toMatch(/core enterprise of program/);

    const guarantor = randomCreditCode();
    await ok(call(app, 'POST', '/v1/registry/watch-list', { key: w.risk.key, body: { creditCode: guarantor.toLowerCase(), note: 'guarantor' } }), 201);
    expectProblem(await call(app, 'POST', '/v1/registry/watch-list', { key: w.risk.key, body: { creditCode: guarantor, note: 'again' } }), 409, 'conflict');
    expect((await ok(call(app, 'GET', '/v1/registry/watch-list', { key: w.risk.key }))).items.map((i: { creditCode: string }) => i.creditCode)).toContain(guarantor);
    await ok(call(app, 'DELETE', `/v1/registry/watch-list/${guarantor}`, { key: w.risk.key }));
    expectProblem(await call(app, 'DELETE', `/v1/registry/watch-list/${guarantor}`, { key: w.risk.key }), 404, 'not_found');

    // A wrong check character is refused wherever a credit code comes in.
    expectProblem(await call(app, 'POST', '/v1/registry/watch-list', { key: w.risk.key, body: { creditCode: '91350100M000100Y44', note: 'x' } }), 400, 'validation_failed');
    expectProblem(await call(app, 'GET', '/v1/registry/enterprises/91350100M000100Y44/snapshots', { key: w.risk.key }), 400, 'validation_failed');
    expectProblem(await call(app, 'GET', '/v1/registry/change-events?creditCode=91350100M000100Y44', { key: w.risk.key }), 400, 'validation_failed');
    expectProblem(await call(app, 'GET', '/v1/registry/watch-list', { key: w.supplier.key }), 403, 'forbidden');
  });

  it('pull, change in the simulator, pull again: exactly the expected events; again: nothing new', async () => {
    const first = await pullAndWait(w.risk.key);
    expect(first.status).toBe('succeeded');
    expect(first.done).toBe(first.total);
    const v1 = await ok(call(app, 'GET', `/v1/registry/enterprises/${w.supplier.creditCode}/snapshots`, { key: w.risk.key }));
    expect(v1.items.map((s: { version: number }) => s.version)).toEqual([1]);

    const base = sampleRecord(w.supplier.creditCode);
    const [a, b] = base.Partners!;
    await simulate(`/admin/enterprises/${w.supplier.creditCode}/changes`, {
      OperName: '赵六',
      // Listed in the other order, names with full-width noise: only the ratios really change (10 points each).
      Partners: [
        { StockName: ` ${b!.StockName} `, StockPercent: `${Number(b!.StockPercent.replace('%', '')) - 10}.00%` },
        { StockName: a!.StockName, StockPercent: `${Number(a!.StockPercent.replace('%', '')) + 10}.00%` },
      ],
      Lawsuits: [{ CaseNo: '（2026）沪0115民初12345号', Role: '被告', CaseReason: '买卖合同纠纷', Amount: '1,250,000.00', Date: '2026-11-20' }],
    });
    const second = await pullAndWait(w.risk.key);
    expect(second.status).toBe('succeeded');
    const events = await ok(call(app, 'GET', `/v1/registry/change-events?creditCode=${w.supplier.creditCode}`, { key: w.risk.key }));
    const summary = events.items.map((e: { type: string; severity: string; itemKey: string }) => `${e.type}:${e.severity}:${e.itemKey}`).sort();
    expect(summary).toEqual(
      [
        `lawsuit_as_defendant:orange:(2026)沪0115民初12345号|defendant`,
        'legal_representative_changed:orange:',
        `shareholder_ratio_changed:yellow:${a!.StockName}`,
        `shareholder_ratio_changed:yellow:${b!.StockName}`,
      ].sort(),
    );
    const lawsuit = events.items.find((e: { type: string }) => e.type === 'lawsuit_as_defendant');
    expect(lawsuit.detail).toEqual({ amountFen: 125_000_000 });
    expect(lawsuit).toMatchObject({ fromVersion: 1, toVersion: 2 });

    // The diff between any two versions gives the same events.
    const diff = await ok(call(app, 'GET', `/v1/registry/enterprises/${w.supplier.creditCode}/diff?from=1&to=2`, { key: w.risk.key }));
    expect(diff.events.map((e: { type: string; itemKey: string }) => `${e.type}:${e.itemKey}`).sort()).toEqual(events.items.map((e: { type: string; itemKey: string }) => `${e.type}:${e.itemKey}`).sort());

    await pullAndWait(w.risk.key);
    const after = await ok(call(app, 'GET', `/v1/registry/change-events?creditCode=${w.supplier.creditCode}`, { key: w.risk.key }));
    expect(after.items).toHaveLength(4);
    const versions = await ok(call(app, 'GET', `/v1/registry/enterprises/${w.supplier.creditCode}/snapshots`, { key: w.risk.key }));
    expect(versions.items.map((s: { version: number }) => s.version)).toEqual([1, 2]);
    const snapshot = await ok(call(app, 'GET', `/v1/registry/enterprises/${w.supplier.creditCode}/snapshots/2`, { key: w.risk.key }));
    expect(snapshot.content.legalRepresentative).toBe('赵六');
  });

  it('a provider outage keeps the old snapshot, records the failure, and the next pull recovers', async () => {
    await simulate('/admin/outage', { mode: 'error' });
    const failed = await pullAndWait(w.risk.key);
    expect(failed.status).toBe('partial');
    expect(failed.failed).toBeGreaterThan(0);
    const status = await ok(call(app, 'GET', '/v1/registry/provider', { key: w.risk.key }));
    const mine = status.enterprises.find((e: { creditCode: string }) => e.creditCode === w.supplier.creditCode);
    expect(mine.lastError).toMatch(/HTTP 503/);
    expect(mine.consecutiveFailures).toBeGreaterThan(0);
    expect(mine.lastSuccessAt).not.toBeNull();
    const versions = await ok(call(app, 'GET', `/v1/registry/enterprises/${w.supplier.creditCode}/snapshots`, { key: w.risk.key }));
    expect(versions.items.map((s: { version: number }) => s.version)).toEqual([1, 2]);

    await simulate('/admin/outage', { mode: 'none' });
    const recovered = await pullAndWait(w.risk.key);
    expect(recovered.status).toBe('succeeded');
    const healthy = (await ok(call(app, 'GET', '/v1/registry/provider', { key: w.risk.key }))).enterprises.find((e: { creditCode: string }) => e.creditCode === w.supplier.creditCode);
    expect(healthy).toMatchObject({ lastError: null, consecutiveFailures: 0 });
  }, 60_000);

  it('the provider push: a bad signature is refused; a replayed event id changes nothing', async () => {
    const record = { ...sampleRecord(w.core.creditCode), Status: '停业' };
    const body = JSON.stringify({ eventId: 'evt-001', record });
    const ts = String(Math.floor(Date.now() / 1000));
    const post = (signature: string, timestamp = ts, raw = body) =>
      app.request('/webhooks/registry/sim-provider', { method: 'POST', headers: { 'content-type': 'application/json', 'x-registry-timestamp': timestamp, 'x-registry-signature': signature }, body: raw });
    expect((await post('sha256=00')).status).toBe(401);
    expect((await post(signProviderPush('another-secret-0123456789', ts, body))).status).toBe(401);
    expect((await post(signProviderPush(SECRET, '1000', body), '1000')).status).toBe(401); // stale timestamp
    const first = await post(signProviderPush(SECRET, ts, body));
    expect(first.status).toBe(200);
    const stored = (await first.json()) as { outcome: string };
    expect(stored.outcome).toMatch(/created|changed/);
    const replay = await post(signProviderPush(SECRET, ts, body));
    expect(await replay.json()).toMatchObject({ outcome: 'duplicate', version: null });
    const { database } = await services();
    const [n] = await database.sql<{ n: number }[]>`select count(*)::int as n from enterprise_snapshots where credit_code = ${w.core.creditCode} and source = 'push'`;
    expect(n!.n).toBe(1);
    if (stored.outcome === 'changed') {
      const ev = await ok(call(app, 'GET', `/v1/registry/change-events?creditCode=${w.core.creditCode}&type=status_changed`, { key: w.risk.key }));
      expect(ev.items[0]).toMatchObject({ severity: 'orange', after: 'suspended' });
    }
  });

  it('another bank sees none of it; the enterprise itself sees its own record', async () => {
    expectProblem(await call(app, 'GET', `/v1/registry/enterprises/${w.supplier.creditCode}/snapshots`, { key: otherBank.risk.key }), 404, 'not_found');
    expectProblem(await call(app, 'GET', `/v1/registry/enterprises/${w.supplier.creditCode}/snapshots/1`, { key: otherBank.credit.key }), 404, 'not_found');
    expectProblem(await call(app, 'GET', `/v1/registry/enterprises/${w.supplier.creditCode}/diff?from=1&to=2`, { key: otherBank.risk.key }), 404, 'not_found');
    const theirs = await ok(call(app, 'GET', `/v1/registry/change-events?creditCode=${w.supplier.creditCode}`, { key: otherBank.risk.key }));
    expect(theirs.items).toEqual([]);
    expect((await call(app, 'GET', `/v1/registry/enterprises/${w.supplier.creditCode}/snapshots`, { key: w.supplier.key })).status).toBe(200);
    expectProblem(await call(app, 'GET', `/v1/registry/enterprises/${w.core.creditCode}/snapshots`, { key: w.supplier.key }), 404, 'not_found');
    expectProblem(await call(app, 'POST', '/v1/registry/pulls', { key: w.supplier.key }), 403, 'forbidden');
  });
});
