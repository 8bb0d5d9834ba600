import { createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { AppError } from '../lib/errors';
import { claimIdempotencyKey, completeIdempotencyKey, releaseIdempotencyKey } from '../modules/idempotency/idempotency-keys';
import type { AppDeps, AppEnv } from './types';

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
export const REPLAYED_HEADER = 'Idempotent-Replayed';

/**
 * Honours `Idempotency-Key` on POSTs (mounted after auth, so keys are per organization).
 * Same key and same request → the stored status and body with `Idempotent-Replayed: true`;
 * same key, other request → 422; same key while the first still runs → 409.
 */
export function idempotency(deps: Pick<AppDeps, 'db' | 'clock' | 'env'>): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const key = c.req.header('idempotency-key');
    if (c.req.method !== 'POST' || key === undefined) return next();
    if (!KEY_PATTERN.test(key)) {
      throw new AppError('validation_failed', 'Idempotency-Key must be 1-255 printable ASCII characters', {
        errors: [{ path: 'header/Idempotency-Key', message: '1-255 printable ASCII characters' }],
      });
    }
    // Raw bytes, not text: a GBK CSV decoded as UTF-8 here would reach the handler mangled.
    const body = new Uint8Array(await c.req.arrayBuffer());
    const requestHash = createHash('sha256')
      .update(`${c.req.method} ${c.req.path}\n${c.req.header('content-type') ?? ''}\n`)
      .update(body)
      .digest('hex');
    const ref = { organizationId: c.get('actor').organizationId, key };
    const claim = await claimIdempotencyKey(deps.db, deps.clock.now(), deps.env.IDEMPOTENCY_TTL_HOURS, {
      ...ref,
      method: c.req.method,
      path: c.req.path,
      requestHash,
    });
    if (claim.kind === 'replay') {
      const { status, contentType, body: stored } = claim.response;
      return new Response(stored, { status, headers: { 'content-type': contentType ?? 'application/json', [REPLAYED_HEADER]: 'true' } });
    }
    const held = { ...ref, token: claim.token };
    try {
      await next();
    } catch (e) {
      await releaseIdempotencyKey(deps.db, held);
      throw e;
    }
    if (c.res.status >= 500 || c.get('idempotencyNoStore')) {
      // A response with a secret in it (device credentials) is never stored: a retry issues new ones.
      await releaseIdempotencyKey(deps.db, held);
      return;
    }
    const responseBody = await c.res.clone().text();
    await completeIdempotencyKey(deps.db, held, { status: c.res.status, contentType: c.res.headers.get('content-type'), body: responseBody });
  };
}
