import { eq } from 'drizzle-orm';
import { users } from '../../db/schema';
import type { DbOrTx } from '../../db/client';
import { type Ctx, canSeeOrganization } from '../../lib/context';
import { notFound } from '../../lib/errors';
import { toUser } from './mappers';

export async function loadVisibleUser(ctx: Ctx, userId: string, db: DbOrTx = ctx.db) {
  const [row] = await db.select().from(users).where(eq(users.id, userId));
  if (!row || !canSeeOrganization(ctx.actor, row.organizationId)) throw notFound('User');
  return row;
}

export async function getUser({ ctx, input }: { ctx: Ctx; input: { userId: string } }) {
  return toUser(await loadVisibleUser(ctx, input.userId));
}
