import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Db } from '../db/client';
import type { Metrics } from '../http/metrics';
import type { Clock } from '../lib/clock';
import { checkAllCoverage, checkSilentDevices, evaluateDeviceEvent, evaluateUncheckedEvents, type Fired } from '../modules/collateral/realtime';
import type { FollowUp } from '../modules/devices/ingest';
import { queues } from './queues';

const q = queues.collateral;

export function collateralQueue(connection: Redis, prefix: string): Queue {
  return new Queue(q.name, { connection, prefix });
}

/** After a batch commits: one check job per event that needs one; the job id makes a redelivered batch harmless. */
export async function enqueueEventChecks(queue: Queue, followUps: FollowUp[]): Promise<void> {
  // ingestBatch lists only events the rules need (outbound movements, alarms, counts, weighings); inbound goods
  // only raise coverage, which the minute sweep sees.
  const wanted = followUps;
  if (!wanted.length) return;
  await queue.addBulk(
    wanted.map((f) => ({ name: q.jobs.checkEvent.name, data: { deviceId: f.deviceId, seq: f.seq }, opts: { jobId: `${f.deviceId}_${f.seq}`, attempts: 5, backoff: { type: 'exponential', delay: 500 }, removeOnComplete: 10_000, removeOnFail: 10_000 } })),
  );
}

const SILENT_CHECK_EVERY_MS = 60_000;
const SWEEP_EVERY_MS = 10_000;

export async function startCollateralJobs(deps: { db: Db; clock: Clock; log: Logger; metrics: Metrics; workerRedis: Redis; producerRedis: Redis; prefix: string }) {
  const queue = collateralQueue(deps.producerRedis, deps.prefix);
  await queue.upsertJobScheduler(q.jobs.checkSilentDevices.name, { every: SILENT_CHECK_EVERY_MS }, { name: q.jobs.checkSilentDevices.name, data: {} });
  await queue.upsertJobScheduler(q.jobs.sweepUnchecked.name, { every: SWEEP_EVERY_MS }, { name: q.jobs.sweepUnchecked.name, data: {} });
  await queue.upsertJobScheduler(q.jobs.checkCoverage.name, { every: SILENT_CHECK_EVERY_MS }, { name: q.jobs.checkCoverage.name, data: {} });
  const worker = new Worker(
    q.name,
    async (job: Job) => {
      if (job.name === q.jobs.checkEvent.name) {
        const ref = q.jobs.checkEvent.payload.parse(job.data);
        return { fired: await evaluateDeviceEvent(deps.db, deps.clock, ref) };
      }
      if (job.name === q.jobs.checkSilentDevices.name) return { silent: await checkSilentDevices(deps.db, deps.clock) };
      if (job.name === q.jobs.checkCoverage.name) return { raised: await checkAllCoverage(deps.db, deps.clock) };
      if (job.name === q.jobs.sweepUnchecked.name) return evaluateUncheckedEvents(deps.db, deps.clock, new Date(deps.clock.now().getTime() - SWEEP_EVERY_MS));
      throw new Error(`unknown job ${job.name} on queue ${q.name}`);
    },
    // One at a time: outbound movements consume release orders in the order they were ingested.
    { connection: deps.workerRedis, prefix: deps.prefix, concurrency: 1 },
  );
  worker.on('completed', (job, result: { fired?: Fired[] }) => {
    deps.metrics.jobsProcessed.inc({ queue: q.name, outcome: 'completed' });
    for (const f of result?.fired ?? []) deps.metrics.warningSignals.inc({ rule: f.rule, severity: f.severity, source: 'realtime' });
    if (result?.fired?.length) deps.log.warn({ job: job.name, data: job.data, fired: result.fired }, 'collateral signal raised');
  });
  worker.on('failed', (job, err) => {
    deps.metrics.jobsProcessed.inc({ queue: q.name, outcome: 'failed' });
    deps.log.error({ job: job?.name, data: job?.data, err: err.message }, 'collateral check failed');
  });
  worker.on('error', (err) => deps.log.warn({ err }, 'collateral worker connection error'));
  return {
    close: async () => {
      await worker.close();
      await queue.close();
    },
  };
}
