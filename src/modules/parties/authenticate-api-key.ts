import { and, eq, isNull, lt, or } from 'drizzle-orm';
import { apiKeys, organizations, users } from '../../db/schema';
import type { Db } from '../../db/client';
import type { Clock } from '../../lib/clock';
import type { UserActor } from '../../lib/context';
import { AppError } from '../../lib/errors';
import { hashApiKeySecret } from './api-key-secret';

/** last_used_at is refreshed at most this often, so reads do not each cost a write. */
const LAST_USED_GRANULARITY_MS = 60_000;

/**
 * Turns a bearer secret into an actor. Every failure reads the same to the caller
 * (unknown, revoked, expired, suspended), so a key's state cannot be probed.
 */
export async function authenticateApiKey({ db, clock, secret }: { db: Db; clock: Clock; secret: string }): Promise<UserActor> {
  const invalid = new AppError('unauthenticated', 'The API key is not valid (unknown, revoked, expired or suspended)');
  if (!/^tfk_[A-Za-z0-9_-]{20,100}$/.test(secret)) throw invalid;
  const [row] = await db
    .select({ key: apiKeys, user: users, org: organizations })
    .from(apiKeys)
    .innerJoin(users, eq(users.id, apiKeys.userId))
    .innerJoin(organizations, eq(organizations.id, apiKeys.organizationId))
    .where(eq(apiKeys.secretHash, hashApiKeySecret(secret)));
  const now = clock.now();
  if (!row || row.key.revokedAt || (row.key.expiresAt && row.key.expiresAt <= now) || row.user.status !== 'active' || row.org.status !== 'active') {
    throw invalid;
  }
  if (!row.key.lastUsedAt || now.getTime() - row.key.lastUsedAt.getTime() >= LAST_USED_GRANULARITY_MS) {
    await db
      .update(apiKeys)
      .set({ lastUsedAt: now })
      .where(and(eq(apiKeys.id, row.key.id), or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, now))));
  }
  return {
    type: 'user',
    userId: row.user.id,
    organizationId: row.org.id,
    organizationKind: row.org.kind,
    role: row.user.role,
    apiKeyId: row.key.id,
  };
}
