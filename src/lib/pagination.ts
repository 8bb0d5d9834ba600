import { z } from '@hono/zod-openapi';
import { AppError } from './errors';

/** Keyset pagination over (created_at, id): stable under concurrent inserts, unlike offsets. */
export const pageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50).openapi({ description: 'Page size, 1-200' }),
  cursor: z.string().max(200).optional().openapi({ description: 'nextCursor from the previous page' }),
});
export type PageQuery = z.infer<typeof pageQuerySchema>;

export interface Cursor {
  createdAt: Date;
  id: string;
}

export function encodeCursor(row: Cursor): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): Cursor | null {
  if (!cursor) return null;
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (!id || Number.isNaN(createdAt.getTime()) || !/^[0-9a-f-]{36}$/i.test(id)) {
    throw new AppError('validation_failed', 'cursor is not one this API issued', { errors: [{ path: 'query/cursor', message: 'invalid cursor' }] });
  }
  return { createdAt, id };
}

/** Given limit+1 rows, returns the page and the cursor of the next one. */
export function pageOf<T extends Cursor, U>(rows: T[], limit: number, map: (row: T) => U): { items: U[]; nextCursor: string | null } {
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  const last = page[page.length - 1];
  return { items: page.map(map), nextCursor: more && last ? encodeCursor(last) : null };
}

export const pageSchema = <T extends z.ZodTypeAny>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });
