import { eq } from 'drizzle-orm';
import { apiKeys, organizations, users } from '../../db/schema';
import type { Ctx } from '../../lib/context';
import { AppError } from '../../lib/errors';
import { toApiKey, toOrganization, toUser } from './mappers';

/** Who the caller's key says they are: user, organization and the key itself. */
export async function getMe({ ctx }: { ctx: Ctx }) {
  const { actor } = ctx;
  if (actor.type !== 'user') throw new AppError('unauthenticated', 'No user behind this call');
  const [row] = await ctx.db
    .select({ key: apiKeys, user: users, org: organizations })
    .from(apiKeys)
    .innerJoin(users, eq(users.id, apiKeys.userId))
    .innerJoin(organizations, eq(organizations.id, apiKeys.organizationId))
    .where(eq(apiKeys.id, actor.apiKeyId));
  if (!row) throw new AppError('unauthenticated', 'The API key no longer exists');
  return { user: toUser(row.user), organization: toOrganization(row.org), apiKey: toApiKey(row.key) };
}
