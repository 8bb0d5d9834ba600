import { and, asc, eq } from 'drizzle-orm';
import { apiKeys } from '../../db/schema';
import type { Ctx } from '../../lib/context';
import { afterCursor } from '../../db/keyset';
import { decodeCursor, pageOf, pageQuerySchema } from '../../lib/pagination';
import { parseInput } from '../../lib/validation';
import { loadVisibleOrganization } from './get-organization';
import { toApiKey } from './mappers';

/** Key metadata of one organization (never the secrets, which are not stored). */
export async function listApiKeys({ ctx, input }: { ctx: Ctx; input: { organizationId: string } & Record<string, unknown> }) {
  const q = parseInput(pageQuerySchema, input, 'query');
  const org = await loadVisibleOrganization(ctx, input.organizationId);
  const cursor = decodeCursor(q.cursor);
  const rows = await ctx.db
    .select()
    .from(apiKeys)
    .where(
      and(
        eq(apiKeys.organizationId, org.id),
        afterCursor(apiKeys.createdAt, apiKeys.id, cursor),
      ),
    )
    .orderBy(asc(apiKeys.createdAt), asc(apiKeys.id))
    .limit(q.limit + 1);
  return pageOf(rows, q.limit, toApiKey);
}
