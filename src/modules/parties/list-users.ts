import { and, asc, eq } from 'drizzle-orm';
import { users } from '../../db/schema';
import type { Ctx } from '../../lib/context';
import { afterCursor } from '../../db/keyset';
import { decodeCursor, pageOf, pageQuerySchema } from '../../lib/pagination';
import { parseInput } from '../../lib/validation';
import { loadVisibleOrganization } from './get-organization';
import { toUser } from './mappers';

export async function listUsers({ ctx, input }: { ctx: Ctx; input: { organizationId: string } & Record<string, unknown> }) {
  const q = parseInput(pageQuerySchema, input, 'query');
  const org = await loadVisibleOrganization(ctx, input.organizationId);
  const cursor = decodeCursor(q.cursor);
  const rows = await ctx.db
    .select()
    .from(users)
    .where(
      and(
        eq(users.organizationId, org.id),
        afterCursor(users.createdAt, users.id, cursor),
      ),
    )
    .orderBy(asc(users.createdAt), asc(users.id))
    .limit(q.limit + 1);
  return pageOf(rows, q.limit, toUser);
}
