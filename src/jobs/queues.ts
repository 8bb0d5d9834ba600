import { z } from 'zod';

/** Queue names and their payload schemas: payloads carry ids and dates, never documents. */
export const queues = {
  maintenance: {
    name: 'maintenance',
    jobs: {
      purgeIdempotencyKeys: { name: 'purge-idempotency-keys', payload: z.object({}) },
    },
  },
} as const;
