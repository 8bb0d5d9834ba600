/** postgres.js errors may arrive wrapped by drizzle (DrizzleQueryError.cause). */
function pgError(e: unknown): { code?: string; constraint_name?: string } | null {
  let current: unknown = e;
  for (let depth = 0; current && depth < 4; depth++) {
    const candidate = current as { code?: unknown; constraint_name?: string; cause?: unknown };
    if (typeof candidate.code === 'string' && /^[0-9A-Z]{5}$/.test(candidate.code)) return candidate as { code: string; constraint_name?: string };
    current = candidate.cause;
  }
  return null;
}

export function isUniqueViolation(e: unknown, constraint?: string): boolean {
  const err = pgError(e);
  return err?.code === '23505' && (constraint === undefined || err.constraint_name === constraint);
}
