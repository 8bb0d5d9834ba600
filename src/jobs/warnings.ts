import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Db } from '../db/client';
import type { Metrics } from '../http/metrics';
import { addDays, businessDate, type Clock } from '../lib/clock';
import { evaluateChunk, recordChunkFailure, startWarningRun } from '../modules/warnings/t1-run';
import { queues } from './queues';

const q = queues.warnings;

export function warningsQueue(connection: Redis, prefix: string) {
  return new Queue(q.name, { connection, prefix });
}

/** Opens a run for day T and fans it out: one job per chunk of subject ids (job id = run + chunk). */
export async function enqueueWarningRun(queue: Queue, deps: { db: Db; clock: Clock; timeZone: string }, input: { businessDate?: string; trigger: 'schedule' | 'api' | 'cli' }) {
  const day = input.businessDate ?? addDays(businessDate(deps.clock.now(), deps.timeZone), -1);
  const { run, chunks } = await startWarningRun(deps.db, deps.clock, { businessDate: day, trigger: input.trigger, timeZone: deps.timeZone });
  await queue.addBulk(
    chunks.map((c, i) => ({
      name: q.jobs.evaluateChunk.name,
      data: { runId: run.id, businessDate: day, kind: c.kind, ids: c.ids },
      opts: { jobId: `${run.id}_${i}`, attempts: 5, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: 1000, removeOnFail: 5000 },
    })),
  );
  return run;
}

/** The T+1 worker: the daily scheduler (default 02:00 business time for T = yesterday) and the chunk evaluations. */
export async function startWarningJobs(deps: { db: Db; clock: Clock; log: Logger; metrics: Metrics; workerRedis: Redis; producerRedis: Redis; prefix: string; timeZone: string; cron: string }) {
  const queue = warningsQueue(deps.producerRedis, deps.prefix);
  await queue.upsertJobScheduler(q.jobs.runDay.name, { pattern: deps.cron, tz: deps.timeZone }, { name: q.jobs.runDay.name, data: { trigger: 'schedule' } });
  const worker = new Worker(
    q.name,
    async (job: Job) => {
      if (job.name === q.jobs.runDay.name) {
        const data = q.jobs.runDay.payload.parse(job.data);
        const run = await enqueueWarningRun(queue, { db: deps.db, clock: deps.clock, timeZone: deps.timeZone }, data);
        return { runId: run.id, chunks: run.chunksTotal };
      }
      if (job.name === q.jobs.evaluateChunk.name) {
        const data = q.jobs.evaluateChunk.payload.parse(job.data);
        try {
          return await evaluateChunk(deps.db, deps.clock, { ...data, timeZone: deps.timeZone });
        } catch (e) {
          if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) await recordChunkFailure(deps.db, data.runId);
          throw e;
        }
      }
      throw new Error(`unknown job ${job.name} on queue ${q.name}`);
    },
    { connection: deps.workerRedis, prefix: deps.prefix, concurrency: 2 },
  );
  worker.on('failed', (job, err) => deps.log.error({ job: job?.name, err: err.message }, 'T+1 job failed'));
  worker.on('error', (err) => deps.log.warn({ err }, 'warnings worker connection error'));
  return {
    close: async () => {
      await worker.close();
      await queue.close();
    },
  };
}
