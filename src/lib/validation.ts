import type { z } from 'zod';
import { AppError, fieldErrorsFromZod } from './errors';

/** Verbs parse their own input, so a verb is safe whichever edge calls it. */
export function parseInput<S extends z.ZodTypeAny>(schema: S, input: unknown, where = 'body'): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const errors = fieldErrorsFromZod(result.error.issues, where);
  throw new AppError('validation_failed', errors.map((e) => `${e.path}: ${e.message}`).join('; '), { errors });
}
