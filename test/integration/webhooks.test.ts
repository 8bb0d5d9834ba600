import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createMetrics } from '../../src/http/metrics';
import { startWebhookJobs } from '../../src/jobs/webhooks';
import { systemClock } from '../../src/lib/clock';
import { raiseSignal } from '../../src/modules/warnings/signals';
import { call, expectProblem, factories, services, silentLog, testApp } from '../support/harness';
import { ok } from '../support/financing';
import { freePort } from '../support/process';
import { testServices } from '../support/services';

const secretKey = randomBytes(32);
const prefix = `${inject('queuePrefix')}_webhooks`;
let receiver: Server;
let receiverUrl: string;
const received: { id: string; verified: unknown; status: number }[] = [];
let failuresLeft = 2;
let secret = '';
let jobs: { close(): Promise<void> };
let workerRedis: Redis;
let producerRedis: Redis;

beforeAll(async () => {
  const port = await freePort();
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      let verified: unknown = null;
      try {
        verified = new Webhook(secret).verify(body, req.headers as Record<string, string>);
      } catch (e) {
        verified = `refused: ${(e as Error).message}`;
      }
      const status = failuresLeft-- > 0 ? 500 : 204;
      received.push({ id: String(req.headers['webhook-id']), verified, status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(port, '127.0.0.1', () => r()));
  receiverUrl = `http://127.0.0.1:${port}/hooks`;
  const { database } = await services();
  workerRedis = new Redis(testServices().redisUrl, { maxRetriesPerRequest: null });
  producerRedis = new Redis(testServices().redisUrl, { maxRetriesPerRequest: 1 });
  jobs = await startWebhookJobs({ db: database.db, clock: systemClock, log: silentLog, metrics: createMetrics({ defaultMetrics: false }), workerRedis, producerRedis, prefix, secretKey, maxAttempts: 5, retryBaseMs: 100, timeoutMs: 2000, sweepEveryMs: 200 });
});

afterAll(async () => {
  await jobs.close();
  const keys = await producerRedis.keys(`${prefix}:*`);
  if (keys.length) await producerRedis.del(...keys);
  workerRedis.disconnect();
  producerRedis.disconnect();
  await new Promise((r) => receiver.close(r));
});

describe('signals delivered to the bank by Standard Webhooks', () => {
  it('a signed delivery that the receiver verifies, retried with backoff until the third attempt succeeds, every attempt recorded', async () => {
    const { app } = await testApp({ deviceSecretKey: secretKey });
    const f = await factories();
    const risk = await f.actor('risk_officer');
    const created = await ok(call(app, 'POST', '/v1/webhook-endpoints', { key: risk.key, body: { url: receiverUrl } }), 201);
    secret = created.secret;
    expect(secret).toMatch(/^whsec_/);

    const { database } = await services();
    const subject = randomBytes(8).toString('hex');
    const signal = await raiseSignal(database.db, new Date(), { rule: 'unauthorized_outbound', subjectType: 'pledge', subjectId: subject, bankOrganizationId: risk.organizationId, severity: 'red', evidence: { quantity: 50 } });
    expect(signal.created).toBe(true);
    // A repeat of the same signal refreshes it and is not announced again.
    await raiseSignal(database.db, new Date(), { rule: 'unauthorized_outbound', subjectType: 'pledge', subjectId: subject, bankOrganizationId: risk.organizationId, severity: 'red', evidence: { quantity: 60 } });

    const deliveries = await (async () => {
      for (let i = 0; i < 150; i++) {
        const d = await ok(call(app, 'GET', `/v1/webhook-endpoints/${created.endpoint.id}/deliveries`, { key: risk.key }));
        if (d.items[0]?.status === 'delivered') return d;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`not delivered: ${JSON.stringify(received)}`);
    })();
    expect(deliveries.items).toHaveLength(1);
    const delivery = deliveries.items[0];
    expect(delivery.attempts.map((a: { attempt: number; statusCode: number }) => [a.attempt, a.statusCode])).toEqual([
      [1, 500],
      [2, 500],
      [3, 204],
    ]);
    expect(received.map((r) => r.status)).toEqual([500, 500, 204]);
    expect(new Set(received.map((r) => r.id))).toEqual(new Set([delivery.id]));
    expect(received[2]!.verified).toMatchObject({ type: 'signal.raised', data: { id: signal.id, rule: 'unauthorized_outbound', severity: 'red' } });

    // The officer acknowledges, then resolves it; each change is announced too.
    await ok(call(app, 'POST', `/v1/signals/${signal.id}/acknowledge`, { key: risk.key, body: { note: 'calling the warehouse' } }));
    const resolved = await ok(call(app, 'POST', `/v1/signals/${signal.id}/resolve`, { key: risk.key, body: { resolution: 'false_positive', note: 'release order was issued by phone, booked late' } }));
    expect(resolved).toMatchObject({ status: 'false_positive', statusChangedBy: risk.userId });
    expectProblem(await call(app, 'POST', `/v1/signals/${signal.id}/acknowledge`, { key: risk.key, body: { note: 'again' } }), 409, 'conflict');
    for (let i = 0; i < 100 && received.filter((r) => r.status === 204).length < 3; i++) await new Promise((r) => setTimeout(r, 100));
    // Deliveries run in parallel, so their order is not promised (receivers order by the payload's timestamp).
    expect(received.filter((r) => r.status === 204).map((r) => (r.verified as { type: string }).type).sort()).toEqual(['signal.acknowledged', 'signal.raised', 'signal.resolved']);
  });

  it("another bank cannot see the endpoint's deliveries or touch the signal; a supplier may not register endpoints", async () => {
    const { app } = await testApp({ deviceSecretKey: secretKey });
    const f = await factories();
    const risk = await f.actor('risk_officer');
    const stranger = await f.actor('risk_officer');
    const supplier = await f.actor('supplier_user');
    const created = await ok(call(app, 'POST', '/v1/webhook-endpoints', { key: risk.key, body: { url: 'https://bank.example/hooks' } }), 201);
    expectProblem(await call(app, 'GET', `/v1/webhook-endpoints/${created.endpoint.id}/deliveries`, { key: stranger.key }), 404, 'not_found');
    expect((await ok(call(app, 'GET', '/v1/webhook-endpoints', { key: stranger.key }))).items).toEqual([]);
    const { database } = await services();
    const signal = await raiseSignal(database.db, new Date(), { rule: 'device_offline', subjectType: 'pledge', subjectId: randomBytes(8).toString('hex'), bankOrganizationId: risk.organizationId, severity: 'orange', evidence: {} });
    expectProblem(await call(app, 'POST', `/v1/signals/${signal.id}/acknowledge`, { key: stranger.key, body: { note: 'x' } }), 404, 'not_found');
    expectProblem(await call(app, 'POST', '/v1/webhook-endpoints', { key: supplier.key, body: { url: 'https://x.example' } }), 403, 'forbidden');
    expectProblem(await call(app, 'POST', '/v1/webhook-endpoints', { key: risk.key, body: { url: 'ftp://x.example' } }), 400, 'validation_failed');
    expectProblem(await call(app, 'POST', `/v1/signals/${signal.id}/resolve`, { key: risk.key, body: { resolution: 'maybe', note: '' } }), 400, 'validation_failed');
  });
});
