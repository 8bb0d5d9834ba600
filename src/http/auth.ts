import type { MiddlewareHandler } from 'hono';
import { AppError } from '../lib/errors';
import { authenticateApiKey } from '../modules/parties/authenticate-api-key';
import type { AppDeps, AppEnv } from './types';

/** `Authorization: Bearer <key>` on every /v1 route; sets the actor for the verbs. */
export function requireApiKey(deps: Pick<AppDeps, 'db' | 'clock'>): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (!header) throw new AppError('unauthenticated', 'Send your API key as "Authorization: Bearer <key>"');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new AppError('unauthenticated', 'The Authorization header must be "Bearer <key>"');
    const actor = await authenticateApiKey({ db: deps.db, clock: deps.clock, secret: match[1]! });
    c.set('actor', actor);
    c.set('log', c.get('log').child({ userId: actor.userId, organizationId: actor.organizationId }));
    await next();
  };
}
