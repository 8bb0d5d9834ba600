import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { ctxOf } from '../../http/context';
import { errorResponses, json } from '../../http/responses';
import type { AppDeps, AppEnv } from '../../http/types';
import { auditPage, listAuditEvents, listAuditInput } from './list-audit-events';

export function registerAuditRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  app.openapi(
    createRoute({ method: 'get', path: '/v1/audit-events', tags: ['Audit'], summary: "The caller's organization's audit trail (who, what, when, before and after)", request: { query: listAuditInput }, responses: { 200: json(auditPage, 'A page'), ...errorResponses } }),
    async (c) => c.json(await listAuditEvents({ ctx: ctxOf(c, deps), input: c.req.valid('query') }), 200),
  );
}
