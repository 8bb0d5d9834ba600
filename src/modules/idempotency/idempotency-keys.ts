import { randomUUID } from 'node:crypto';
import { and, eq, lte, or } from 'drizzle-orm';
import { idempotencyKeys } from '../../db/schema';
import type { Db } from '../../db/client';
import { AppError } from '../../lib/errors';

/**
 * How long a running request holds its key before another attempt may take it over (its
 * process presumably died). Far above any request's life; completion and release match
 * the claim token, so a lapsed first attempt can never overwrite or free the second's claim.
 */
const RUNNING_LOCK_MS = 15 * 60_000;

export interface StoredResponse {
  status: number;
  contentType: string | null;
  body: string;
}

export type Claim = { kind: 'claimed'; token: string } | { kind: 'replay'; response: StoredResponse };

interface KeyRef {
  organizationId: string;
  key: string;
}

/**
 * Claims an Idempotency-Key for one request. The first caller gets `claimed`; a repeat with
 * the same request gets the stored response; a different request under the same key, or a
 * repeat while the first is still running, is refused. An expired key, or a running claim
 * whose process died (lock lapsed) for the same request, is taken over.
 */
export async function claimIdempotencyKey(
  db: Db,
  now: Date,
  ttlHours: number,
  ref: KeyRef & { method: string; path: string; requestHash: string },
): Promise<Claim> {
  const lockedUntil = new Date(now.getTime() + RUNNING_LOCK_MS);
  const claimToken = randomUUID();
  const expiresAt = new Date(now.getTime() + ttlHours * 3_600_000);
  const [claimed] = await db
    .insert(idempotencyKeys)
    .values({ ...ref, state: 'running', claimToken, createdAt: now, lockedUntil, expiresAt })
    .onConflictDoUpdate({
      target: [idempotencyKeys.organizationId, idempotencyKeys.key],
      set: {
        method: ref.method,
        path: ref.path,
        requestHash: ref.requestHash,
        state: 'running',
        claimToken,
        responseStatus: null,
        responseContentType: null,
        responseBody: null,
        createdAt: now,
        lockedUntil,
        expiresAt,
      },
      setWhere: or(
        lte(idempotencyKeys.expiresAt, now),
        and(eq(idempotencyKeys.state, 'running'), lte(idempotencyKeys.lockedUntil, now), eq(idempotencyKeys.requestHash, ref.requestHash)),
      ),
    })
    .returning({ key: idempotencyKeys.key });
  if (claimed) return { kind: 'claimed', token: claimToken };

  const [existing] = await db
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.organizationId, ref.organizationId), eq(idempotencyKeys.key, ref.key)));
  if (!existing) {
    // Purged between our insert and select: the caller may simply retry.
    throw new AppError('idempotency_in_progress', 'The Idempotency-Key changed state while we looked at it; retry the request');
  }
  if (existing.requestHash !== ref.requestHash) {
    throw new AppError('idempotency_key_reused', `Idempotency-Key "${ref.key}" was already used for a different request (${existing.method} ${existing.path} with another body)`);
  }
  if (existing.state === 'running') {
    throw new AppError('idempotency_in_progress', `A request with Idempotency-Key "${ref.key}" is still being processed; retry later`);
  }
  return { kind: 'replay', response: { status: existing.responseStatus!, contentType: existing.responseContentType, body: existing.responseBody ?? '' } };
}

export async function completeIdempotencyKey(db: Db, ref: KeyRef & { token: string }, response: StoredResponse): Promise<void> {
  await db
    .update(idempotencyKeys)
    .set({ state: 'completed', responseStatus: response.status, responseContentType: response.contentType, responseBody: response.body })
    .where(and(eq(idempotencyKeys.organizationId, ref.organizationId), eq(idempotencyKeys.key, ref.key), eq(idempotencyKeys.claimToken, ref.token)));
}

/** A request that failed on our side (5xx) releases its key so the client can retry it. */
export async function releaseIdempotencyKey(db: Db, ref: KeyRef & { token: string }): Promise<void> {
  await db
    .delete(idempotencyKeys)
    .where(and(eq(idempotencyKeys.organizationId, ref.organizationId), eq(idempotencyKeys.key, ref.key), eq(idempotencyKeys.state, 'running'), eq(idempotencyKeys.claimToken, ref.token)));
}

/** Run by the maintenance job; returns how many keys were dropped. */
export async function purgeExpiredIdempotencyKeys({ db, now }: { db: Db; now: Date }): Promise<number> {
  const deleted = await db.delete(idempotencyKeys).where(lte(idempotencyKeys.expiresAt, now)).returning({ key: idempotencyKeys.key });
  return deleted.length;
}
