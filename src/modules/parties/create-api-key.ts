import { apiKeys } from '../../db/schema';
import type { DbOrTx } from '../../db/client';
import { type Ctx, actorUserId, isPlatformWide } from '../../lib/context';
import { AppError } from '../../lib/errors';
import { parseInput } from '../../lib/validation';
import { recordAudit } from '../audit/record-audit';
import { newApiKeySecret } from './api-key-secret';
import { loadVisibleUser } from './get-user';
import { toApiKey } from './mappers';
import { type CreateApiKeyInput, createApiKeyInput } from './schemas';

/** Issues a key for a user: the platform for anyone, a person only for themselves (rotation). */
export async function createApiKey({ ctx, input }: { ctx: Ctx; input: { userId: string } & CreateApiKeyInput }) {
  const data = parseInput(createApiKeyInput, input);
  return ctx.db.transaction(async (tx) => {
    const user = await loadVisibleUser(ctx, input.userId, tx);
    if (!isPlatformWide(ctx.actor) && actorUserId(ctx.actor) !== user.id) {
      throw new AppError('forbidden', 'Only a platform admin may issue keys for another user');
    }
    if (user.status !== 'active') throw new AppError('conflict', 'The user is suspended; keys cannot be issued');
    const expiresAt = data.expiresAt ? new Date(data.expiresAt) : null;
    if (expiresAt && expiresAt <= ctx.clock.now()) {
      throw new AppError('validation_failed', 'expiresAt must be in the future', { errors: [{ path: 'body/expiresAt', message: 'must be in the future' }] });
    }
    return insertApiKey(tx, ctx, { organizationId: user.organizationId, userId: user.id, name: data.name, expiresAt });
  });
}

/** Shared with the platform bootstrap, which creates the first admin's key. */
export async function insertApiKey(tx: DbOrTx, ctx: Ctx, key: { organizationId: string; userId: string; name: string; expiresAt: Date | null }) {
  const { secret, prefix, hash } = newApiKeySecret();
  const [row] = await tx
    .insert(apiKeys)
    .values({ ...key, prefix, secretHash: hash, createdAt: ctx.clock.now(), createdByUserId: actorUserId(ctx.actor) })
    .returning();
  await recordAudit(tx, ctx, {
    organizationId: key.organizationId,
    action: 'api_key.created',
    subjectType: 'api_key',
    subjectId: row!.id,
    data: { userId: key.userId, name: key.name, prefix, expiresAt: key.expiresAt?.toISOString() ?? null },
  });
  return { apiKey: toApiKey(row!), secret };
}
