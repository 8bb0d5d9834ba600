import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Db } from '../db/client';
import type { Metrics } from '../http/metrics';
import type { Clock } from '../lib/clock';
import { runDailyFinancingSweep } from '../modules/financing/financing-requests';
import { purgeExpiredIdempotencyKeys } from '../modules/idempotency/idempotency-keys';
import { businessDate } from '../lib/clock';
import type { Ctx } from '../lib/context';
import { queues } from './queues';

export interface JobsDeps {
  db: Db;
  clock: Clock;
  businessTz: string;
  log: Logger;
  metrics: Metrics;
  /** Worker connection: retries forever. */
  workerRedis: Redis;
  /** Producer connection: fails fast. */
  producerRedis: Redis;
  prefix: string;
}

export interface JobsRole {
  close(): Promise<void>;
}

const PURGE_EVERY_MS = 60 * 60 * 1000;
/** 00:10 in the business time zone: the day just ended is settled before the T+1 run. */
const DAILY_SWEEP_CRON = '10 0 * * *';

/** The `jobs` role: schedules the recurring jobs (idempotently) and runs their workers. */
export async function startJobs(deps: JobsDeps): Promise<JobsRole> {
  const m = queues.maintenance;
  const maintenanceQueue = new Queue(m.name, { connection: deps.producerRedis, prefix: deps.prefix });
  // A scheduler id is an upsert: every jobs process may call this at start without duplicates.
  await maintenanceQueue.upsertJobScheduler(m.jobs.purgeIdempotencyKeys.name, { every: PURGE_EVERY_MS }, { name: m.jobs.purgeIdempotencyKeys.name, data: {} });

  const f = queues.financing;
  const financingQueue = new Queue(f.name, { connection: deps.producerRedis, prefix: deps.prefix });
  await financingQueue.upsertJobScheduler(f.jobs.dailySweep.name, { pattern: DAILY_SWEEP_CRON, tz: deps.businessTz }, { name: f.jobs.dailySweep.name, data: {} });

  const systemCtx = (job: Job): Ctx => ({
    actor: { type: 'system', name: `job:${job.queueName}:${job.name}` },
    requestId: `job-${job.queueName}-${job.id}`,
    db: deps.db,
    clock: deps.clock,
    businessTz: deps.businessTz,
    log: deps.log.child({ queue: job.queueName, jobId: job.id }),
  });

  const workers = [
    new Worker(
      m.name,
      async (job: Job) => {
        switch (job.name) {
          case m.jobs.purgeIdempotencyKeys.name: {
            m.jobs.purgeIdempotencyKeys.payload.parse(job.data);
            const purged = await purgeExpiredIdempotencyKeys({ db: deps.db, now: deps.clock.now() });
            return { purged };
          }
          default:
            throw new Error(`unknown job ${job.name} on queue ${m.name}`);
        }
      },
      { connection: deps.workerRedis, prefix: deps.prefix, concurrency: 1 },
    ),
    new Worker(
      f.name,
      async (job: Job) => {
        switch (job.name) {
          case f.jobs.dailySweep.name: {
            const { asOf } = f.jobs.dailySweep.payload.parse(job.data);
            const ctx = systemCtx(job);
            return runDailyFinancingSweep({ ctx, input: { asOf: asOf ?? businessDate(deps.clock.now(), deps.businessTz) } });
          }
          default:
            throw new Error(`unknown job ${job.name} on queue ${f.name}`);
        }
      },
      { connection: deps.workerRedis, prefix: deps.prefix, concurrency: 1 },
    ),
  ];
  for (const worker of workers) {
    worker.on('completed', (job, result) => {
      deps.metrics.jobsProcessed.inc({ queue: job.queueName, outcome: 'completed' });
      deps.log.info({ queue: job.queueName, job: job.name, jobId: job.id, result }, 'job completed');
    });
    worker.on('failed', (job, err) => {
      deps.metrics.jobsProcessed.inc({ queue: worker.name, outcome: 'failed' });
      deps.log.error({ queue: worker.name, job: job?.name, jobId: job?.id, err }, 'job failed');
    });
    worker.on('error', (err) => deps.log.warn({ err }, 'worker connection error'));
  }

  return {
    close: async () => {
      await Promise.all(workers.map((w) => w.close())); // each waits for its running job to finish
      await Promise.all([maintenanceQueue.close(), financingQueue.close()]);
    },
  };
}
