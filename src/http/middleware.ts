import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { routePath } from 'hono/route';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { AppError } from '../lib/errors';
import { problem } from './problem';
import type { AppDeps, AppEnv } from './types';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Request id (taken from X-Request-Id when sane), a child logger, access log and metrics. */
export function requestContext(deps: Pick<AppDeps, 'log' | 'metrics'>): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    c.set('requestId', requestId);
    c.set('log', deps.log.child({ requestId }));
    const started = performance.now();
    await next();
    c.header('X-Request-Id', requestId);
    const route = c.res.status === 404 ? '(unmatched)' : routePath(c);
    const seconds = (performance.now() - started) / 1000;
    deps.metrics.httpRequests.inc({ method: c.req.method, route, status: String(c.res.status) });
    deps.metrics.httpDuration.observe({ method: c.req.method, route }, seconds);
    c.get('log').info({ method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(seconds * 1000) }, 'request');
  };
}

export function limitBody(maxSize: number): MiddlewareHandler<AppEnv> {
  return bodyLimit({
    maxSize,
    onError: (c) => problem(c as never, 'payload_too_large', `The request body is larger than the limit of ${maxSize} bytes`),
  });
}

interface RouteShape {
  method: string;
  pattern: RegExp;
  mediaTypes: string[] | null;
}

const toPattern = (path: string) =>
  new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}|:[A-Za-z0-9_]+/g, '[^/]+')}/?$`);

/**
 * Checks a request body's Content-Type against what the matched OpenAPI route declares,
 * answering 415 instead of letting a mislabelled body skip validation.
 */
export function requireDeclaredMediaType(app: OpenAPIHono<AppEnv>): MiddlewareHandler<AppEnv> {
  let table: RouteShape[] | null = null;
  const build = (): RouteShape[] =>
    app.openAPIRegistry.definitions.flatMap((d) => {
      if (d.type !== 'route') return [];
      const content = d.route.request?.body?.content;
      return [{ method: d.route.method.toUpperCase(), pattern: toPattern(d.route.path), mediaTypes: content ? Object.keys(content) : null }];
    });
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || c.req.method === 'OPTIONS') return next();
    table ??= build();
    const route = table.find((r) => r.method === c.req.method && r.pattern.test(c.req.path));
    if (route?.mediaTypes) {
      const sent = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (!route.mediaTypes.includes(sent)) {
        throw new AppError('unsupported_media_type', `This endpoint accepts ${route.mediaTypes.join(', ')}; the request was sent as ${sent || '(no Content-Type)'}`, {
          extra: { accepted: route.mediaTypes },
        });
      }
    }
    return next();
  };
}

/** Methods registered for a path, to tell 405 from 404. */
export function allowedMethods(app: OpenAPIHono<AppEnv>, path: string): string[] {
  const methods = new Set<string>();
  for (const r of app.routes) {
    if (r.method === 'ALL' || r.path.includes('*')) continue;
    if (toPattern(r.path).test(path)) methods.add(r.method);
  }
  return [...methods];
}
