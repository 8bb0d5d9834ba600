import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Db } from '../db/client';
import type { Metrics } from '../http/metrics';
import type { Clock } from '../lib/clock';
import type { SecretKey } from '../modules/devices/secrets';
import { attemptDelivery, DeliveryFailed, pendingDeliveries } from '../modules/warnings/webhooks';
import { queues } from './queues';

const q = queues.webhooks;

/**
 * Webhook deliveries: a sweep every few seconds turns pending deliveries (written with their
 * signals) into one job each (job id = delivery id, so never twice at a time); each job
 * retries with exponential backoff, and the worker runs several at once so a failing or slow
 * endpoint never holds up the others.
 */
export async function startWebhookJobs(deps: { db: Db; clock: Clock; log: Logger; metrics: Metrics; workerRedis: Redis; producerRedis: Redis; prefix: string; secretKey: SecretKey; maxAttempts: number; retryBaseMs: number; timeoutMs: number; sweepEveryMs?: number }) {
  const queue = new Queue(q.name, { connection: deps.producerRedis, prefix: deps.prefix });
  await queue.upsertJobScheduler(q.jobs.dispatch.name, { every: deps.sweepEveryMs ?? 2000 }, { name: q.jobs.dispatch.name, data: {} });
  const worker = new Worker(
    q.name,
    async (job: Job) => {
      if (job.name === q.jobs.dispatch.name) {
        const pending = await pendingDeliveries(deps.db, 500);
        await queue.addBulk(
          pending.map((p) => ({
            name: q.jobs.deliver.name,
            data: { deliveryId: p.id },
            opts: { jobId: p.id, attempts: deps.maxAttempts, backoff: { type: 'exponential', delay: deps.retryBaseMs }, removeOnComplete: true, removeOnFail: true },
          })),
        );
        return { dispatched: pending.length };
      }
      if (job.name === q.jobs.deliver.name) {
        const { deliveryId } = q.jobs.deliver.payload.parse(job.data);
        const final = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
        return attemptDelivery(deps.db, { deliveryId, secretKey: deps.secretKey, timeoutMs: deps.timeoutMs, now: () => deps.clock.now(), final });
      }
      throw new Error(`unknown job ${job.name} on queue ${q.name}`);
    },
    { connection: deps.workerRedis, prefix: deps.prefix, concurrency: 16 },
  );
  worker.on('failed', (job, err) => {
    deps.metrics.jobsProcessed.inc({ queue: q.name, outcome: 'failed' });
    if (!(err instanceof DeliveryFailed)) deps.log.error({ job: job?.name, err }, 'webhook job failed');
  });
  worker.on('completed', () => deps.metrics.jobsProcessed.inc({ queue: q.name, outcome: 'completed' }));
  worker.on('error', (err) => deps.log.warn({ err }, 'webhook worker connection error'));
  return {
    close: async () => {
      await worker.close();
      await queue.close();
    },
  };
}
