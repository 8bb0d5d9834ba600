import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { registryWebhookEvents } from '../../db/schema';
import type { Db } from '../../db/client';
import type { Clock } from '../../lib/clock';
import { AppError, fieldErrorsFromZod } from '../../lib/errors';
import type { DiffOptions } from './diff';
import { mapProviderRecord, ProviderError } from './providers';
import { recordProfile } from './snapshots';

/** How far a push's timestamp may be from our clock: older pushes are refused as replays. */
export const PUSH_TOLERANCE_SECONDS = 300;

const pushBody = z.object({ eventId: z.string().trim().min(1).max(200), record: z.unknown() });

/** sha256=hex(HMAC-SHA256(secret, "<timestamp>.<raw body>")) — what the provider sends in X-Registry-Signature. */
export function signProviderPush(secret: string, timestamp: string, rawBody: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex')}`;
}

/**
 * A provider pushes a changed profile. Authenticated by signature over timestamp and body,
 * idempotent on the provider's event id: a replayed event changes nothing.
 */
export async function receiveProviderPush(args: {
  db: Db;
  clock: Clock;
  provider: string;
  secret: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
  rawBody: string;
  diff: DiffOptions;
}) {
  if (!args.secret) throw new AppError('unavailable', 'Registry pushes are not configured (REGISTRY_WEBHOOK_SECRET)');
  const unauthenticated = new AppError('unauthenticated', 'The push is not signed by the provider (X-Registry-Timestamp and X-Registry-Signature)');
  if (!args.timestamp || !/^\d{1,12}$/.test(args.timestamp) || !args.signature) throw unauthenticated;
  if (Math.abs(args.clock.now().getTime() / 1000 - Number(args.timestamp)) > PUSH_TOLERANCE_SECONDS) {
    throw new AppError('unauthenticated', `The push timestamp is more than ${PUSH_TOLERANCE_SECONDS} s from our clock`);
  }
  const expected = Buffer.from(signProviderPush(args.secret, args.timestamp, args.rawBody));
  const given = Buffer.from(args.signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw unauthenticated;

  let json: unknown;
  try {
    json = JSON.parse(args.rawBody);
  } catch {
    throw new AppError('validation_failed', 'The push body is not JSON');
  }
  const body = pushBody.safeParse(json);
  if (!body.success) throw new AppError('validation_failed', 'The push body is not {eventId, record}', { errors: fieldErrorsFromZod(body.error.issues, 'body') });
  let profile;
  try {
    profile = mapProviderRecord(body.data.record);
  } catch (e) {
    if (e instanceof ProviderError) throw new AppError('validation_failed', e.message);
    throw e;
  }

  return args.db.transaction(async (tx) => {
    const [fresh] = await tx
      .insert(registryWebhookEvents)
      .values({ provider: args.provider, eventId: body.data.eventId, creditCode: profile.creditCode, outcome: 'received', receivedAt: args.clock.now() })
      .onConflictDoNothing()
      .returning();
    if (!fresh) return { eventId: body.data.eventId, outcome: 'duplicate' as const, creditCode: profile.creditCode, version: null, events: 0 };
    const result = await recordProfile(tx, { clock: args.clock }, { provider: args.provider, source: 'push', profile, diff: args.diff });
    return { eventId: body.data.eventId, outcome: result.outcome, creditCode: profile.creditCode, version: result.version, events: result.events.length };
  });
}
