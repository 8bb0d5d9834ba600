import { OpenAPIHono } from '@hono/zod-openapi';
import { mountRiskConsole } from './console/routes';
import { requireApiKey } from './http/auth';
import { mountQueueDashboard } from './http/bull-board';
import { idempotency } from './http/idempotency';
import { allowedMethods, limitBody, requestContext, requireDeclaredMediaType } from './http/middleware';
import { mountApiDocs } from './http/openapi';
import { errorToProblem, problem } from './http/problem';
import type { AppDeps, AppEnv } from './http/types';
import { AppError, fieldErrorsFromZod } from './lib/errors';
import { registerAuditRoutes } from './modules/audit/routes';
import { registerCollateralRoutes } from './modules/collateral/routes';
import { registerDeviceRoutes } from './modules/devices/routes';
import { registerFinancingRoutes } from './modules/financing/routes';
import { registerPartiesRoutes } from './modules/parties/routes';
import { registerRegistryRoutes } from './modules/registry/routes';
import { registerWarningsRoutes } from './modules/warnings/routes';

export type { AppDeps } from './http/types';

const READINESS_TIMEOUT_MS = 2000;

/** The whole HTTP API as a Hono app, without listening: main.ts serves it, tests call app.request(). */
export function createApp(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const errors = fieldErrorsFromZod(result.error.issues, result.target === 'json' ? 'body' : result.target === 'param' ? 'path' : result.target);
        throw new AppError('validation_failed', errors.map((e) => `${e.path}: ${e.message}`).join('; '), { errors });
      }
    },
  });

  app.use('*', requestContext(deps));
  app.use('*', limitBody(deps.env.BODY_LIMIT_BYTES));

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const results = await Promise.all(
      deps.readiness.map(async ({ name, check }) => {
        try {
          await withTimeout(check(), READINESS_TIMEOUT_MS);
          return { name, ok: true as const };
        } catch (e) {
          return { name, ok: false as const, error: e instanceof Error ? e.message : String(e) };
        }
      }),
    );
    const down = results.filter((r) => !r.ok);
    const checks = Object.fromEntries(results.map((r) => [r.name, r.ok ? 'ok' : `down: ${r.error}`]));
    if (down.length === 0) return c.json({ status: 'ready', checks });
    return problem(c, 'unavailable', `Not ready: ${down.map((d) => d.name).join(', ')} unreachable`, { checks });
  });
  app.get('/metrics', async (c) => c.body(await deps.metrics.registry.metrics(), 200, { 'content-type': deps.metrics.registry.contentType }));
  mountApiDocs(app);
  mountQueueDashboard(app, deps);
  mountRiskConsole(app);

  app.use('/v1/*', requireApiKey(deps));
  app.use('/v1/*', requireDeclaredMediaType(app));
  app.use('/v1/*', idempotency(deps));
  registerPartiesRoutes(app, deps);
  registerFinancingRoutes(app, deps);
  registerAuditRoutes(app, deps);
  registerRegistryRoutes(app, deps);
  registerCollateralRoutes(app, deps);
  registerDeviceRoutes(app, deps);
  registerWarningsRoutes(app, deps);

  app.notFound((c) => {
    const allow = allowedMethods(app, c.req.path);
    // A handler that answers "no such thing" on a route that exists lands here too: that is a 404.
    if (allow.length > 0 && !allow.includes(c.req.method)) {
      c.header('Allow', allow.join(', '));
      return problem(c, 'method_not_allowed', `${c.req.method} is not supported on ${c.req.path}; use ${allow.join(', ')}`);
    }
    return problem(c, 'not_found', `No route ${c.req.method} ${c.req.path}`);
  });
  app.onError(errorToProblem);
  return app;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
