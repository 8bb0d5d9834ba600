import { z } from 'zod';

/** Queue names and their payload schemas: payloads carry ids and dates, never documents. */
export const queues = {
  maintenance: {
    name: 'maintenance',
    jobs: {
      purgeIdempotencyKeys: { name: 'purge-idempotency-keys', payload: z.object({}) },
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
