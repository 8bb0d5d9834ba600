/**
 * A T+1 worker as its own process, for the test that kills one mid-run: the real
 * startWarningJobs on the given database and queue prefix, with short locks so a job held by
 * a killed worker is taken over in seconds. Prints "ready" once listening.
 */
import { Redis } from 'ioredis';
import { connectDatabase } from '../../src/db/client';
import { createMetrics } from '../../src/http/metrics';
import { startWarningJobs } from '../../src/jobs/warnings';
import { systemClock } from '../../src/lib/clock';
import { createLogger } from '../../src/lib/logger';

const env = (name: string) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
};

const database = connectDatabase(env('DATABASE_URL'), { max: 4 });
const workerRedis = new Redis(env('REDIS_URL'), { maxRetriesPerRequest: null });
const producerRedis = new Redis(env('REDIS_URL'), { maxRetriesPerRequest: 1 });
await startWarningJobs({
  db: database.db,
  clock: systemClock,
  log: createLogger('warn'),
  metrics: createMetrics({ defaultMetrics: false }),
  workerRedis,
  producerRedis,
  prefix: env('QUEUE_PREFIX'),
  timeZone: 'Asia/Shanghai',
  cron: '0 2 * * *',
  concurrency: 1,
  lockDurationMs: 2_000,
  stalledIntervalMs: 1_000,
});
console.log('ready');
