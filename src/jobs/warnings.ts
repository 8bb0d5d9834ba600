import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Db } from '../db/client';
import type { Metrics } from '../http/metrics';
import { addDays, type Clock } from '../lib/clock';
import { checkSkippedNights, evaluateChunk, failRun, recordChunkFailure, type RunView, startWarningRun, yesterday } from '../modules/warnings/t1-run';
import { queues } from './queues';

const q = queues.warnings;
const CHUNK_ATTEMPTS = 5;

export function warningsQueue(connection: Redis, prefix: string) {
  return new Queue(q.name, { connection, prefix });
}

/** Opens a run for day T and fans it out: one job per chunk of subject ids (job id = run + chunk). */
export async function enqueueWarningRun(queue: Queue, deps: { db: Db; clock: Clock; timeZone: string }, input: { businessDate?: string; trigger: 'schedule' | 'api' | 'cli' }) {
  const day = input.businessDate ?? yesterday(deps.clock, deps.timeZone);
  const { run, chunks } = await startWarningRun(deps.db, deps.clock, { businessDate: day, trigger: input.trigger, timeZone: deps.timeZone });
  // A run whose jobs never reached Redis would sit at `running` for ever: it is failed at once instead.
  await queue.addBulk(
    chunks.map((c) => ({
      name: q.jobs.evaluateChunk.name,
      data: { runId: run.id, businessDate: day, chunkIndex: c.index, kind: c.kind, ids: c.ids },
      opts: { jobId: `${run.id}_${c.index}`, attempts: CHUNK_ATTEMPTS, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: 1000, removeOnFail: 5000 },
    })),
  ).catch(async (e) => {
    await failRun(deps.db, deps.clock, run.id);
    throw e;
  });
  return run;
}

function observeFinishedRun(metrics: Metrics, run: RunView) {
  const seconds = (run.durationMs ?? 0) / 1000;
  metrics.warningRunDuration.observe({ status: run.status }, seconds);
  metrics.warningRunSubjectsPerSecond.set(seconds > 0 ? run.subjectsEvaluated / seconds : run.subjectsEvaluated);
  if (run.status === 'succeeded') metrics.warningRunLastSuccess.set(Date.now() / 1000);
}

/**
 * The T+1 worker: the daily scheduler (default 02:00 business time, for T = yesterday), the
 * chunk evaluations, and the morning check for business days that had no successful run.
 */
export async function startWarningJobs(deps: { db: Db; clock: Clock; log: Logger; metrics: Metrics; workerRedis: Redis; producerRedis: Redis; prefix: string; timeZone: string; cron: string; skipCheckCron?: string; concurrency?: number; lockDurationMs?: number; stalledIntervalMs?: number }) {
  const queue = warningsQueue(deps.producerRedis, deps.prefix);
  await queue.upsertJobScheduler(q.jobs.runDay.name, { pattern: deps.cron, tz: deps.timeZone }, { name: q.jobs.runDay.name, data: { trigger: 'schedule' } });
  await queue.upsertJobScheduler(q.jobs.checkSkippedNights.name, { pattern: deps.skipCheckCron ?? '0 8 * * *', tz: deps.timeZone }, { name: q.jobs.checkSkippedNights.name, data: {} });
  const worker = new Worker(
    q.name,
    async (job: Job) => {
      if (job.name === q.jobs.runDay.name) {
        const data = q.jobs.runDay.payload.parse(job.data);
        const run = await enqueueWarningRun(queue, { db: deps.db, clock: deps.clock, timeZone: deps.timeZone }, data);
        // The nights before this one: a gap is a red signal (a run of today does not fill yesterday's).
        await checkSkippedNights(deps.db, deps.clock, { lastDay: addDays(run.businessDate, -1), timeZone: deps.timeZone });
        return { runId: run.id, chunks: run.chunksTotal };
      }
      if (job.name === q.jobs.checkSkippedNights.name) {
        return { skipped: await checkSkippedNights(deps.db, deps.clock, { lastDay: yesterday(deps.clock, deps.timeZone), timeZone: deps.timeZone }) };
      }
      if (job.name === q.jobs.evaluateChunk.name) {
        const data = q.jobs.evaluateChunk.payload.parse(job.data);
        const result = await evaluateChunk(deps.db, deps.clock, { ...data, timeZone: deps.timeZone });
        if (result.evaluated) {
          deps.metrics.warningRunSubjects.inc({ kind: data.kind }, data.ids.length);
          for (const r of result.raised) deps.metrics.warningSignals.inc({ rule: r.rule, severity: r.severity, source: 't1' });
        }
        if (result.finishedRun) {
          observeFinishedRun(deps.metrics, result.finishedRun);
          deps.log.info({ run: result.finishedRun }, 'T+1 run finished');
        }
        return { evaluated: result.evaluated, raised: result.raised.length };
      }
      throw new Error(`unknown job ${job.name} on queue ${q.name}`);
    },
    // A chunk held by a worker that died is taken over once its lock expires (BullMQ's stalled-job check).
    { connection: deps.workerRedis, prefix: deps.prefix, concurrency: deps.concurrency ?? 2, lockDuration: deps.lockDurationMs ?? 30_000, stalledInterval: deps.stalledIntervalMs ?? 30_000 },
  );
  // A chunk failed for good — its attempts used up, or stalled too often (a worker died holding it,
  // which never reaches the processor) — is counted so the run ends instead of running for ever.
  worker.on('failed', (job, err) => {
    deps.log.error({ job: job?.name, attempt: job?.attemptsMade, err: err.message }, 'T+1 job failed');
    if (!job || job.name !== q.jobs.evaluateChunk.name || (job.attemptsMade < (job.opts.attempts ?? 1) && !/stalled/i.test(err.message))) return;
    const data = q.jobs.evaluateChunk.payload.parse(job.data);
    deps.metrics.warningRunFailures.inc();
    recordChunkFailure(deps.db, deps.clock, { runId: data.runId, chunkIndex: data.chunkIndex, kind: data.kind })
      .then((finished) => finished && observeFinishedRun(deps.metrics, finished))
      .catch((e: unknown) => deps.log.error({ err: e, runId: data.runId }, 'could not record a failed T+1 chunk'));
  });
  worker.on('error', (err) => deps.log.warn({ err }, 'warnings worker connection error'));
  return {
    close: async () => {
      await worker.close();
      await queue.close();
    },
  };
}
