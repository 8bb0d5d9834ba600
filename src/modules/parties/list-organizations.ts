import { and, asc, eq, type SQL } from 'drizzle-orm';
import { organizations } from '../../db/schema';
import { type Ctx, isPlatformWide } from '../../lib/context';
import { afterCursor } from '../../db/keyset';
import { decodeCursor, pageOf } from '../../lib/pagination';
import { parseInput } from '../../lib/validation';
import { toOrganization } from './mappers';
import { listOrganizationsInput } from './schemas';

/** The platform sees every organization; anyone else sees only its own. */
export async function listOrganizations({ ctx, input }: { ctx: Ctx; input: unknown }) {
  const q = parseInput(listOrganizationsInput, input, 'query');
  const cursor = decodeCursor(q.cursor);
  const where: (SQL | undefined)[] = [];
  if (ctx.actor.type === 'user' && !isPlatformWide(ctx.actor)) where.push(eq(organizations.id, ctx.actor.organizationId));
  if (q.kind) where.push(eq(organizations.kind, q.kind));
  where.push(afterCursor(organizations.createdAt, organizations.id, cursor));
  const rows = await ctx.db
    .select()
    .from(organizations)
    .where(and(...where))
    .orderBy(asc(organizations.createdAt), asc(organizations.id))
    .limit(q.limit + 1);
  return pageOf(rows, q.limit, toOrganization);
}
