import { eq } from 'drizzle-orm';
import { apiKeys } from '../../db/schema';
import { type Ctx, actorUserId, canSeeOrganization, isPlatformWide } from '../../lib/context';
import { AppError, notFound } from '../../lib/errors';
import { recordAudit } from '../audit/record-audit';
import { toApiKey } from './mappers';

/** Revokes a key at once. Revoking twice is harmless and answers the same key. */
export async function revokeApiKey({ ctx, input }: { ctx: Ctx; input: { apiKeyId: string } }) {
  return ctx.db.transaction(async (tx) => {
    const [key] = await tx.select().from(apiKeys).where(eq(apiKeys.id, input.apiKeyId)).for('update');
    if (!key || !canSeeOrganization(ctx.actor, key.organizationId)) throw notFound('API key');
    if (!isPlatformWide(ctx.actor) && actorUserId(ctx.actor) !== key.userId) {
      throw new AppError('forbidden', "Only a platform admin may revoke another user's key");
    }
    if (key.revokedAt) return toApiKey(key);
    const [row] = await tx
      .update(apiKeys)
      .set({ revokedAt: ctx.clock.now(), revokedByUserId: actorUserId(ctx.actor) })
      .where(eq(apiKeys.id, key.id))
      .returning();
    await recordAudit(tx, ctx, { organizationId: key.organizationId, action: 'api_key.revoked', subjectType: 'api_key', subjectId: key.id, data: { prefix: key.prefix } });
    return toApiKey(row!);
  });
}
