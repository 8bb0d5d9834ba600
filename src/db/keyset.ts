import { and, eq, gt, or, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { AppError } from '../lib/errors';
import type { Cursor } from '../lib/pagination';

/** Rows after the cursor in (created_at, id) order — the one way lists page. */
export function afterCursor(createdAt: PgColumn, id: PgColumn, cursor: Cursor | null): SQL | undefined {
  if (!cursor) return undefined;
  return or(gt(createdAt, cursor.createdAt), and(eq(createdAt, cursor.createdAt), gt(id, cursor.id)));
}

/** For append-only logs (journal, audit) that page by their posting sequence: the cursor is the last seq. */
export function afterSeq(seq: PgColumn, cursor: string | undefined): SQL | undefined {
  if (cursor === undefined) return undefined;
  if (!/^\d{1,15}$/.test(cursor)) {
    throw new AppError('validation_failed', 'cursor is not one this API issued', { errors: [{ path: 'query/cursor', message: 'invalid cursor' }] });
  }
  return gt(seq, Number(cursor));
}

export function seqPageOf<T extends { seq: number }, U>(rows: T[], limit: number, map: (row: T) => U): { items: U[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  return { items: page.map(map), nextCursor: rows.length > limit ? String(page[page.length - 1]!.seq) : null };
}
