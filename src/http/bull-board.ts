import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import { serveStatic } from '@hono/node-server/serve-static';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { AppError } from '../lib/errors';
import { recordAudit } from '../modules/audit/record-audit';
import { ctxOf } from './context';
import { authenticateApiKey } from '../modules/parties/authenticate-api-key';
import { problem } from './problem';
import type { AppDeps, AppEnv } from './types';

const require = createRequire(import.meta.url);

/** Where the BullMQ dashboard lives; kept out of the OpenAPI document (plain Hono routes). */
export const QUEUE_DASHBOARD_PATH = '/admin/queues';
export const ADMIN_REALM = 'threeflow admin';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The API key from `Authorization`: `Bearer <key>`, or HTTP Basic with the key as the
 * password (any user name) so a browser can open the admin pages. Null when absent or
 * malformed; the caller answers 401 with a Basic challenge.
 */
export function adminCredentials(header: string | undefined): { secret: string; scheme: 'bearer' | 'basic' } | null {
  if (!header) return null;
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (bearer) return { secret: bearer[1]!, scheme: 'bearer' };
  const basic = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
  if (!basic) return null;
  const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  const secret = decoded.slice(colon + 1);
  return secret ? { secret, scheme: 'basic' } : null;
}

function challenge(c: Context<AppEnv>, detail: string): Response {
  const res = problem(c, 'unauthenticated', detail);
  res.headers.set('WWW-Authenticate', `Basic realm="${ADMIN_REALM}"`);
  return res;
}

/**
 * Guards every /admin page and API: platform admins only. Verifies the key with the same
 * authenticateApiKey the /v1 Bearer middleware uses; 401 (with a Basic challenge) without
 * valid credentials, 403 for any other role. State-changing requests authenticated by the
 * browser's cached Basic credentials must come from the same origin (no cross-site forms).
 */
export function requirePlatformAdmin(deps: Pick<AppDeps, 'db' | 'clock' | 'env'>): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const credentials = adminCredentials(c.req.header('authorization'));
    if (!credentials) {
      return challenge(c, 'Sign in with your API key: HTTP Basic auth with any user name and the key as password, or "Authorization: Bearer <key>"');
    }
    let actor;
    try {
      actor = await authenticateApiKey({ db: deps.db, clock: deps.clock, secret: credentials.secret });
    } catch (e) {
      if (e instanceof AppError && e.code === 'unauthenticated') return challenge(c, e.message);
      throw e;
    }
    c.set('actor', actor);
    c.set('log', c.get('log').child({ userId: actor.userId, organizationId: actor.organizationId }));
    if (actor.role !== 'platform_admin') {
      throw new AppError('forbidden', `The admin pages need the role platform_admin; this key acts as ${actor.role}`);
    }
    if (credentials.scheme === 'basic' && !SAFE_METHODS.has(c.req.method) && isCrossSite(c)) {
      throw new AppError('forbidden', 'Cross-site requests to the admin pages are refused; use the dashboard itself');
    }
    await next();
    // Retrying, removing or emptying jobs changes what the platform does: each one leaves an audit row.
    if (!SAFE_METHODS.has(c.req.method)) {
      await recordAudit(deps.db, ctxOf(c, deps), {
        organizationId: actor.organizationId,
        action: 'admin.queue_action',
        subjectType: 'queue_dashboard',
        subjectId: c.req.path,
        data: { method: c.req.method, path: c.req.path, status: c.res.status },
      });
    }
  };
}

function isCrossSite(c: Context<AppEnv>): boolean {
  const fetchSite = c.req.header('sec-fetch-site');
  if (fetchSite && fetchSite !== 'same-origin' && fetchSite !== 'none') return true;
  const origin = c.req.header('origin');
  if (!origin) return false;
  try {
    return new URL(origin).host !== new URL(c.req.url).host;
  } catch {
    return true;
  }
}

/**
 * Mounts the BullMQ dashboard (@bull-board) at /admin/queues behind requirePlatformAdmin.
 * Without queues (no Redis in this process) every dashboard path answers 503.
 */
export function mountQueueDashboard(app: OpenAPIHono<AppEnv>, deps: Pick<AppDeps, 'db' | 'clock' | 'env' | 'queues'>): void {
  app.use('/admin', requirePlatformAdmin(deps));
  app.use('/admin/*', requirePlatformAdmin(deps));
  const queues = deps.queues;
  if (!queues || queues.length === 0) {
    app.all(QUEUE_DASHBOARD_PATH, unavailable);
    app.all(`${QUEUE_DASHBOARD_PATH}/*`, unavailable);
    return;
  }
  const serverAdapter = new HonoAdapter(serveStatic);
  serverAdapter.setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q)),
    serverAdapter,
    options: {
      uiBasePath: dirname(require.resolve('@bull-board/ui/package.json')),
      uiConfig: { boardTitle: 'threeflow queues' },
    },
  });
  // The UI's <base href> ends in a slash; send that form to the entry page too.
  app.get(`${QUEUE_DASHBOARD_PATH}/`, (c) => c.redirect(QUEUE_DASHBOARD_PATH, 308));
  app.route(QUEUE_DASHBOARD_PATH, serverAdapter.registerPlugin());
}

function unavailable(c: Context<AppEnv>): Response {
  return problem(c, 'unavailable', 'The queue dashboard needs Redis: this process was started without BullMQ queues');
}
