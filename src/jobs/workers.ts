import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Db } from '../db/client';
import type { Metrics } from '../http/metrics';
import type { Clock } from '../lib/clock';
import { purgeExpiredIdempotencyKeys } from '../modules/idempotency/idempotency-keys';
import { queues } from './queues';

export interface JobsDeps {
  db: Db;
  clock: Clock;
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

/** The `jobs` role: schedules the recurring jobs (idempotently) and runs their workers. */
export async function startJobs(deps: JobsDeps): Promise<JobsRole> {
  const m = queues.maintenance;
  const maintenanceQueue = new Queue(m.name, { connection: deps.producerRedis, prefix: deps.prefix });
  // A scheduler id is an upsert: every jobs process may call this at start without duplicates.
  await maintenanceQueue.upsertJobScheduler(m.jobs.purgeIdempotencyKeys.name, { every: PURGE_EVERY_MS }, { name: m.jobs.purgeIdempotencyKeys.name, data: {} });

  const worker = new Worker(
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
  );
  worker.on('completed', (job, result) => {
    deps.metrics.jobsProcessed.inc({ queue: m.name, outcome: 'completed' });
    deps.log.info({ queue: m.name, job: job.name, jobId: job.id, result }, 'job completed');
  });
  worker.on('failed', (job, err) => {
    deps.metrics.jobsProcessed.inc({ queue: m.name, outcome: 'failed' });
    deps.log.error({ queue: m.name, job: job?.name, jobId: job?.id, err }, 'job failed');
  });
  worker.on('error', (err) => deps.log.warn({ err }, 'worker connection error'));

  return {
    close: async () => {
      await worker.close(); // waits for the running job to finish
      await maintenanceQueue.close();
    },
  };
}
