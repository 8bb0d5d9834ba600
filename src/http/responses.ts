import { z } from '@hono/zod-openapi';
import type { ZodType } from 'zod';

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    requestId: z.string(),
    instance: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem');

const problemContent = { 'application/problem+json': { schema: problemSchema } };

/** The error answers every authenticated endpoint can give. */
export const errorResponses = {
  400: { description: 'Invalid input (field errors listed)', content: problemContent },
  401: { description: 'Missing or invalid API key', content: problemContent },
  403: { description: 'Role not allowed', content: problemContent },
  404: { description: "Not found (or another tenant's)", content: problemContent },
} as const;

export const writeErrorResponses = {
  ...errorResponses,
  409: { description: 'Conflict, or the same Idempotency-Key is still running', content: problemContent },
  413: { description: 'Body too large', content: problemContent },
  415: { description: 'Wrong Content-Type', content: problemContent },
  422: { description: 'Idempotency-Key reused with another request', content: problemContent },
} as const;

export const json = <T extends ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
export const jsonBody = <T extends ZodType>(schema: T) => ({ content: { 'application/json': { schema } }, required: true });

export const idempotencyHeader = z.object({
  'Idempotency-Key': z
    .string()
    .optional()
    .openapi({ description: 'Repeat-safe retries: same key and body replay the stored response for 24 h' }),
});
