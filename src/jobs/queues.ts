import { z } from 'zod';
import { type SubjectKind, subjectKinds } from '../modules/warnings/t1-subjects';

/** Queue names and their payload schemas: payloads carry ids and dates, never documents. */
export const queues = {
  maintenance: {
    name: 'maintenance',
    jobs: {
      purgeIdempotencyKeys: { name: 'purge-idempotency-keys', payload: z.object({}) },
    },
  },
  registry: {
    name: 'registry',
    jobs: {
      /** Starts a run over the whole watch list (scheduled daily, or on demand by API). */
      pullWatchList: { name: 'pull-watch-list', payload: z.object({ trigger: z.enum(['schedule', 'api']).default('schedule') }) },
      /** One enterprise of a run; retried with backoff, rate-limited by the worker. */
      pullEnterprise: { name: 'pull-enterprise', payload: z.object({ runId: z.uuid(), creditCode: z.string() }) },
    },
  },
  collateral: {
    name: 'collateral',
    jobs: {
      /** Real-time rules for one accepted device event (ids only). */
      checkEvent: { name: 'check-event', payload: z.object({ deviceId: z.uuid(), seq: z.number().int().min(1) }) },
      checkSilentDevices: { name: 'check-silent-devices', payload: z.object({}) },
      checkCoverage: { name: 'check-coverage', payload: z.object({}) },
      sweepUnchecked: { name: 'sweep-unchecked-events', payload: z.object({}) },
    },
  },
  warnings: {
    name: 'warnings',
    jobs: {
      /** Opens the T+1 run for a business day (default: yesterday) and fans it out. */
      runDay: { name: 'run-day', payload: z.object({ businessDate: z.iso.date().optional(), trigger: z.enum(['schedule', 'api', 'cli']).default('schedule') }) },
      /** One chunk of subject ids of a run. */
      evaluateChunk: {
        name: 'evaluate-chunk',
        payload: z.object({ runId: z.uuid(), businessDate: z.iso.date(), chunkIndex: z.number().int().min(0), kind: z.enum(subjectKinds as [SubjectKind, ...SubjectKind[]]), ids: z.array(z.string()).max(1000) }),
      },
      /** Looks back over the last days for business days without a successful run (a red signal each). */
      checkSkippedNights: { name: 'check-skipped-nights', payload: z.object({}) },
    },
  },
  webhooks: {
    name: 'webhooks',
    jobs: {
      /** Turns pending deliveries into deliver jobs (every 2 s). */
      dispatch: { name: 'dispatch', payload: z.object({}) },
      deliver: { name: 'deliver', payload: z.object({ deliveryId: z.uuid() }) },
    },
  },
  financing: {
    name: 'financing',
    jobs: {
      /** Overdue requests, expired lines and quotes for a business date (default: today in BUSINESS_TZ). */
      dailySweep: { name: 'daily-sweep', payload: z.object({ asOf: z.iso.date().optional() }) },
    },
  },
} as const;
