import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { createMetrics } from '../../src/http/metrics';
import { queues } from '../../src/jobs/queues';
import { startJobs, type JobsRole } from '../../src/jobs/workers';
import { systemClock } from '../../src/lib/clock';
import { factories, services, silentLog } from '../support/harness';
import { testServices } from '../support/services';

const prefix = `${inject('queuePrefix')}_jobs`;
let jobs: JobsRole;
let workerRedis: Redis;
let producerRedis: Redis;

beforeAll(async () => {
  const { database } = await services();
  const { redisUrl } = testServices();
  workerRedis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  producerRedis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  jobs = await startJobs({ db: database.db, clock: systemClock, businessTz: 'Asia/Shanghai', log: silentLog, metrics: createMetrics({ defaultMetrics: false }), workerRedis, producerRedis, prefix });
});

afterAll(async () => {
  await jobs.close();
  const keys = await producerRedis.keys(`${prefix}:*`);
  if (keys.length) await producerRedis.del(...keys);
  workerRedis.disconnect();
  producerRedis.disconnect();
});

describe('jobs role', () => {
  it('schedules the idempotency purge once, however many processes start', async () => {
    const { database } = await services();
    const second = await startJobs({ db: database.db, clock: systemClock, businessTz: 'Asia/Shanghai', log: silentLog, metrics: createMetrics({ defaultMetrics: false }), workerRedis, producerRedis, prefix });
    await second.close();
    const queue = new Queue(queues.maintenance.name, { connection: producerRedis, prefix });
    const schedulers = await queue.getJobSchedulers();
    expect(schedulers.map((s) => s.key)).toEqual([queues.maintenance.jobs.purgeIdempotencyKeys.name]);
    await queue.close();
  });

  it('the purge job removes expired idempotency keys through the worker', async () => {
    const { database } = await services();
    const f = await factories();
    const org = await f.org('supplier');
    await database.sql`insert into idempotency_keys (organization_id, key, method, path, request_hash, state, created_at, locked_until, expires_at)
      values (${org.id}, 'old', 'POST', '/x', 'h', 'completed', now() - interval '3 days', now() - interval '3 days', now() - interval '2 days')`;
    const queue = new Queue(queues.maintenance.name, { connection: producerRedis, prefix });
    const eventsRedis = new Redis(testServices().redisUrl, { maxRetriesPerRequest: null });
    const events = new QueueEvents(queues.maintenance.name, { connection: eventsRedis, prefix });
    await events.waitUntilReady();
    const job = await queue.add(queues.maintenance.jobs.purgeIdempotencyKeys.name, {});
    const result = (await job.waitUntilFinished(events, 15_000)) as { purged: number };
    // Another suite's purge may run at the same time and take this row first: the count can be 0, the row must be gone.
    expect(Number.isInteger(result.purged)).toBe(true);
    expect((await database.sql`select 1 from idempotency_keys where organization_id = ${org.id}`).length).toBe(0);
    await events.close();
    eventsRedis.disconnect();
    await queue.close();
  });
});
