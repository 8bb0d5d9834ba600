import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Db } from '../db/client';
import type { Metrics } from '../http/metrics';
import type { Clock } from '../lib/clock';
import type { DiffOptions } from '../modules/registry/diff';
import { ProviderError, type RegistryProvider } from '../modules/registry/providers';
import { finishPullItem, pullEnterprise, startPullRun } from '../modules/registry/snapshots';
import { queues } from './queues';

const q = queues.registry;
const ATTEMPTS = 3;

export function registryQueue(connection: Redis, prefix: string): Queue {
  return new Queue(q.name, { connection, prefix });
}

/**
 * Creates a pull run and one job per watched enterprise. Job ids are `<run>_<credit code>`,
 * so re-adding a run's jobs (a producer retry) never pulls an enterprise twice in one run.
 */
export async function enqueueRegistryPull(queue: Queue, deps: { db: Db; clock: Clock; provider: string }, trigger: 'schedule' | 'api') {
  const { run, creditCodes } = await startPullRun(deps.db, deps, { provider: deps.provider, trigger });
  await queue.addBulk(
    creditCodes.map((creditCode) => ({
      name: q.jobs.pullEnterprise.name,
      data: { runId: run.id, creditCode },
      opts: { jobId: `${run.id}_${creditCode}`, attempts: ATTEMPTS, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: 1000, removeOnFail: 5000 },
    })),
  );
  return run;
}

/** The registry worker: daily run starter and the per-enterprise pulls, rate-limited. */
export async function startRegistryJobs(deps: {
  db: Db;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  workerRedis: Redis;
  producerRedis: Redis;
  prefix: string;
  provider: RegistryProvider;
  diff: DiffOptions;
  cron: string;
  businessTz: string;
  ratePerSecond: number;
}) {
  const queue = registryQueue(deps.producerRedis, deps.prefix);
  await queue.upsertJobScheduler(q.jobs.pullWatchList.name, { pattern: deps.cron, tz: deps.businessTz }, { name: q.jobs.pullWatchList.name, data: { trigger: 'schedule' } });
  const worker = new Worker(
    q.name,
    async (job: Job) => {
      if (job.name === q.jobs.pullWatchList.name) {
        const { trigger } = q.jobs.pullWatchList.payload.parse(job.data);
        const run = await enqueueRegistryPull(queue, { db: deps.db, clock: deps.clock, provider: deps.provider.name }, trigger);
        return { runId: run.id, total: run.total };
      }
      if (job.name === q.jobs.pullEnterprise.name) {
        const { runId, creditCode } = q.jobs.pullEnterprise.payload.parse(job.data);
        try {
          const result = await pullEnterprise(deps.db, deps, { provider: deps.provider, creditCode, diff: deps.diff });
          await finishPullItem(deps.db, deps, runId, true);
          return { outcome: result.outcome, version: result.version, events: result.events.length };
        } catch (e) {
          const retryable = !(e instanceof ProviderError) || e.retryable;
          const last = !retryable || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
          if (last) {
            await finishPullItem(deps.db, deps, runId, false);
            throw new UnrecoverableError(e instanceof Error ? e.message : String(e));
          }
          throw e;
        }
      }
      throw new Error(`unknown job ${job.name} on queue ${q.name}`);
    },
    { connection: deps.workerRedis, prefix: deps.prefix, concurrency: 4, limiter: { max: deps.ratePerSecond, duration: 1000 } },
  );
  worker.on('completed', () => deps.metrics.jobsProcessed.inc({ queue: q.name, outcome: 'completed' }));
  worker.on('failed', (job, err) => {
    deps.metrics.jobsProcessed.inc({ queue: q.name, outcome: 'failed' });
    deps.log.warn({ queue: q.name, job: job?.name, data: job?.data, attempt: job?.attemptsMade, err: err.message }, 'registry pull failed');
  });
  worker.on('error', (err) => deps.log.warn({ err }, 'registry worker connection error'));
  return {
    close: async () => {
      await worker.close();
      await queue.close();
    },
  };
}
