import type { Queue } from 'bullmq';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** One registry per process (tests make one per app), so metrics never double-register. */
export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'threeflow_' });
  const httpRequests = new Counter({
    name: 'threeflow_http_requests_total',
    help: 'HTTP requests by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'threeflow_http_request_duration_seconds',
    help: 'HTTP request duration by method and route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const jobsProcessed = new Counter({
    name: 'threeflow_jobs_processed_total',
    help: 'Background jobs by queue and outcome',
    labelNames: ['queue', 'outcome'] as const,
    registers: [registry],
  });
  const ingestMessages = new Counter({
    name: 'threeflow_ingest_messages_total',
    help: 'Device messages by outcome (accepted, duplicate, quarantined)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const quarantined = new Counter({
    name: 'threeflow_quarantine_total',
    help: 'Device messages quarantined, by reason',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const ingestBatchSize = new Histogram({
    name: 'threeflow_ingest_batch_size',
    help: 'Messages per committed ingest batch',
    buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000],
    registers: [registry],
  });
  // T+1 early-warning runs (the warnings worker fills these; realtime signals count under source="realtime").
  const warningRunDuration = new Histogram({
    name: 'threeflow_warning_run_duration_seconds',
    help: 'Wall time of a T+1 warning run from start to finish, by final status',
    labelNames: ['status'] as const,
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 900, 1200, 1800],
    registers: [registry],
  });
  const warningRunSubjects = new Counter({
    name: 'threeflow_warning_run_subjects_total',
    help: 'Subjects evaluated by T+1 warning runs, by subject kind',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const warningRunSubjectsPerSecond = new Gauge({
    name: 'threeflow_warning_run_subjects_per_second',
    help: 'Subjects evaluated per second by the last finished T+1 warning run',
    registers: [registry],
  });
  const warningSignals = new Counter({
    name: 'threeflow_warning_signals_total',
    help: 'Warning signals raised, by rule, severity and source (t1 or realtime)',
    labelNames: ['rule', 'severity', 'source'] as const,
    registers: [registry],
  });
  const warningRunFailures = new Counter({
    name: 'threeflow_warning_run_failures_total',
    help: 'T+1 warning run chunks that failed for good (retries exhausted)',
    registers: [registry],
  });
  const warningRunLastSuccess = new Gauge({
    name: 'threeflow_warning_run_last_success_timestamp_seconds',
    help: 'Unix time at which the last T+1 warning run finished successfully',
    registers: [registry],
  });
  return {
    registry,
    httpRequests,
    httpDuration,
    jobsProcessed,
    ingestMessages,
    quarantined,
    ingestBatchSize,
    warningRunDuration,
    warningRunSubjects,
    warningRunSubjectsPerSecond,
    warningSignals,
    warningRunFailures,
    warningRunLastSuccess,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** The BullMQ job states reported by threeflow_queue_jobs. */
export const QUEUE_JOB_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized', 'waiting-children'] as const;

type QueueLike = Pick<Queue, 'name' | 'getJobCounts'>;

/**
 * Registers threeflow_queue_jobs{queue,state}, read from Redis on every scrape. A queue that
 * cannot be read (Redis down) is left out of that scrape and logged; /metrics still answers.
 */
export function observeQueueDepth(metrics: Pick<Metrics, 'registry'>, queues: readonly QueueLike[], options: { onError?: (err: unknown, queue: string) => void; timeoutMs?: number } = {}) {
  const timeoutMs = options.timeoutMs ?? 2000;
  return new Gauge({
    name: 'threeflow_queue_jobs',
    help: 'BullMQ jobs per queue and state, read at scrape time',
    labelNames: ['queue', 'state'] as const,
    registers: [metrics.registry],
    async collect() {
      this.reset();
      await Promise.all(
        queues.map(async (queue) => {
          try {
            const counts = await withTimeout(queue.getJobCounts(...QUEUE_JOB_STATES), timeoutMs);
            for (const state of QUEUE_JOB_STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0);
          } catch (err) {
            options.onError?.(err, queue.name);
          }
        }),
      );
    },
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
