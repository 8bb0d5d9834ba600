import type { Context } from 'hono';
import type { Ctx } from '../lib/context';
import type { AppDeps, AppEnv } from './types';

/** The verb context for an authenticated request. */
export function ctxOf(c: Context<AppEnv>, deps: Pick<AppDeps, 'db' | 'clock' | 'env'>): Ctx {
  return { actor: c.get('actor'), requestId: c.get('requestId'), db: deps.db, clock: deps.clock, businessTz: deps.env.BUSINESS_TZ, log: c.get('log') };
}
