import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

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
  return { registry, httpRequests, httpDuration, jobsProcessed, ingestMessages, quarantined, ingestBatchSize };
}

export type Metrics = ReturnType<typeof createMetrics>;
