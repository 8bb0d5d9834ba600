import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { ctxOf } from '../../http/context';
import { errorResponses, idempotencyHeader, json, jsonBody, writeErrorResponses } from '../../http/responses';
import type { AppDeps, AppEnv } from '../../http/types';
import { AppError } from '../../lib/errors';
import { pageQuerySchema } from '../../lib/pagination';
import { requireRole } from '../../lib/context';
import { receiveProviderPush } from './provider-push';
import {
  addWatchInput,
  changeEventPage,
  creditCodeParam,
  diffOutput,
  diffQuery,
  listChangeEventsInput,
  providerStatusOutput,
  pullRunOutput,
  snapshotOutput,
  snapshotPage,
  versionParam,
  watchAddedOutput,
  watchListOutput,
  watchRemovedOutput,
} from './schemas';
import { diffSnapshots, getPullRun, getSnapshot, listChangeEvents, listSnapshots, providerStatus } from './snapshots';
import { addToWatchList, listWatchList, removeFromWatchList } from './watch-list';

const tags = ['Registry monitoring'];
type Code = { creditCode: string };

export function registerRegistryRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  const r = deps.registry;
  app.openapi(
    createRoute({ method: 'get', path: '/v1/registry/watch-list', tags, summary: 'Enterprises watched for the caller’s bank, and why', responses: { 200: json(watchListOutput, 'The watch list'), ...errorResponses } }),
    async (c) => c.json(await listWatchList({ ctx: ctxOf(c, deps) }), 200),
  );
  app.openapi(
    createRoute({ method: 'post', path: '/v1/registry/watch-list', tags, summary: 'Watch another enterprise (a guarantor, a shareholder)', request: { headers: idempotencyHeader, body: jsonBody(addWatchInput) }, responses: { 201: json(watchAddedOutput, 'Added'), ...writeErrorResponses } }),
    async (c) => c.json(await addToWatchList({ ctx: ctxOf(c, deps), input: c.req.valid('json') }), 201),
  );
  app.openapi(
    createRoute({ method: 'delete', path: '/v1/registry/watch-list/{creditCode}', tags, summary: 'Stop watching an enterprise the bank added', request: { params: creditCodeParam }, responses: { 200: json(watchRemovedOutput, 'Removed'), ...errorResponses } }),
    async (c) => c.json(await removeFromWatchList({ ctx: ctxOf(c, deps), input: c.req.valid('param') as Code }), 200),
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/registry/enterprises/{creditCode}/snapshots', tags, summary: 'Snapshot history (a version per content change)', request: { params: creditCodeParam, query: pageQuerySchema }, responses: { 200: json(snapshotPage, 'Versions'), ...errorResponses } }),
    async (c) => c.json(await listSnapshots({ ctx: ctxOf(c, deps), input: { ...(c.req.valid('param') as Code), ...c.req.valid('query') } }), 200),
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/registry/enterprises/{creditCode}/snapshots/{version}', tags, summary: 'One snapshot with its content', request: { params: versionParam }, responses: { 200: json(snapshotOutput, 'The snapshot'), ...errorResponses } }),
    async (c) => c.json(await getSnapshot({ ctx: ctxOf(c, deps), input: c.req.valid('param') as Code & { version: number } }), 200),
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/registry/enterprises/{creditCode}/diff', tags, summary: 'Change events between any two versions', request: { params: creditCodeParam, query: diffQuery }, responses: { 200: json(diffOutput, 'The events'), ...errorResponses } }),
    async (c) => c.json(await diffSnapshots({ ctx: ctxOf(c, deps), input: { ...(c.req.valid('param') as Code), ...c.req.valid('query'), diff: r.diff } }), 200),
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/registry/change-events', tags, summary: 'Stored change events, by type, enterprise and detection time', request: { query: listChangeEventsInput }, responses: { 200: json(changeEventPage, 'A page'), ...errorResponses } }),
    async (c) => c.json(await listChangeEvents({ ctx: ctxOf(c, deps), input: c.req.valid('query') }), 200),
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/registry/provider', tags, summary: 'Provider status: last pull run, per-enterprise last success and failure', responses: { 200: json(providerStatusOutput, 'Status'), ...errorResponses } }),
    async (c) => c.json(await providerStatus({ ctx: ctxOf(c, deps), input: { provider: r.provider, pullConfigured: !!r.startPull, pushConfigured: !!r.webhookSecret } }), 200),
  );
  app.openapi(
    createRoute({ method: 'post', path: '/v1/registry/pulls', tags, summary: 'Pull the whole watch list now (progress at GET /v1/registry/pulls/{runId})', request: { headers: idempotencyHeader }, responses: { 202: json(pullRunOutput, 'Started'), ...writeErrorResponses } }),
    async (c) => {
      const ctx = ctxOf(c, deps);
      requireRole(ctx, ['risk_officer', 'platform_admin']);
      if (!r.startPull) throw new AppError('unavailable', 'No registry provider is configured (REGISTRY_PROVIDER_URL)');
      return c.json(await getPullRun({ ctx, input: { runId: (await r.startPull('api')).id } }), 202);
    },
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/registry/pulls/{runId}', tags, summary: 'A pull run and its progress', request: { params: z.object({ runId: z.uuid().openapi({ param: { name: 'runId', in: 'path' } }) }) }, responses: { 200: json(pullRunOutput, 'The run'), ...errorResponses } }),
    async (c) => c.json(await getPullRun({ ctx: ctxOf(c, deps), input: c.req.valid('param') as { runId: string } }), 200),
  );

  // The provider's push: no API key; the signature over the raw body is the authentication.
  app.openAPIRegistry.registerPath({
    method: 'post',
    path: '/webhooks/registry/{provider}',
    tags,
    summary: 'Provider push of a changed profile, signed (X-Registry-Timestamp, X-Registry-Signature), idempotent on eventId',
    security: [],
    request: { params: z.object({ provider: z.string() }), body: { content: { 'application/json': { schema: z.object({ eventId: z.string(), record: z.record(z.string(), z.unknown()) }) } } } },
    responses: { 200: { description: 'Stored (or a duplicate event, which changes nothing)' }, 401: errorResponses[401], 400: errorResponses[400] },
  });
  app.post('/webhooks/registry/:provider', async (c) => {
    if (c.req.param('provider') !== r.provider) throw new AppError('not_found', `No registry provider named ${c.req.param('provider')}`);
    const result = await receiveProviderPush({
      db: deps.db,
      clock: deps.clock,
      provider: r.provider,
      secret: r.webhookSecret,
      timestamp: c.req.header('x-registry-timestamp'),
      signature: c.req.header('x-registry-signature'),
      rawBody: await c.req.text(),
      diff: r.diff,
    });
    return c.json(result, 200);
  });
}
