import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { ctxOf } from '../../http/context';
import { errorResponses, idempotencyHeader, json, jsonBody, writeErrorResponses } from '../../http/responses';
import type { AppDeps, AppEnv } from '../../http/types';
import { streamSSE } from 'hono/streaming';
import { requireRole } from '../../lib/context';
import { AppError } from '../../lib/errors';
import { idParam } from '../parties/schemas';
import { digestInput, getSignal, morningDigest } from './digest';
import { getWarningRun } from './t1-run';
import type { SignalNotice } from './feed';
import { acknowledgeInput, changeSignalStatus, resolveInput } from './signal-status';
import { createEndpointInput, createdEndpointOutput, createWebhookEndpoint, deliveryOutput, endpointOutput, listWebhookDeliveries, listWebhookEndpoints } from './webhooks';

const tags = ['Warnings'];
const signalStatusOutput = z
  .object({ id: z.uuid(), rule: z.string(), severity: z.string(), status: z.string(), statusNote: z.string().nullable(), statusChangedBy: z.string().nullable(), statusChangedAt: z.iso.datetime() })
  .openapi('SignalStatus');

const runOutput = z
  .object({ id: z.uuid(), businessDate: z.string(), trigger: z.string(), status: z.string(), chunksTotal: z.number().int(), chunksDone: z.number().int(), subjectsEvaluated: z.number().int(), signalsRaised: z.number().int(), failures: z.number().int(), startedAt: z.iso.datetime(), finishedAt: z.iso.datetime().nullable() })
  .openapi('WarningRun');

export function registerWarningsRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  app.openapi(
    createRoute({ method: 'post', path: '/v1/warning-runs', tags, summary: 'Run (or re-run) T+1 for a business day; progress at GET /v1/warning-runs/{runId}', request: { headers: idempotencyHeader, body: jsonBody(z.object({ businessDate: z.iso.date().optional().openapi({ description: 'Default: yesterday in BUSINESS_TZ' }) })) }, responses: { 202: json(runOutput, 'Started'), ...writeErrorResponses } }),
    async (c) => {
      const ctx = ctxOf(c, deps);
      requireRole(ctx, ['risk_officer', 'platform_admin']);
      if (!deps.startWarningRun) throw new AppError('unavailable', 'This process cannot start runs (no queue)');
      const started = await deps.startWarningRun(c.req.valid('json').businessDate);
      return c.json(await getWarningRun({ ctx, input: { runId: started.id } }), 202);
    },
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/warning-runs/{runId}', tags, summary: 'A T+1 run and its progress', request: { params: idParam('runId') }, responses: { 200: json(runOutput, 'The run'), ...errorResponses } }),
    async (c) => c.json(await getWarningRun({ ctx: ctxOf(c, deps), input: c.req.valid('param') as { runId: string } }), 200),
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/signals/stream',
      tags,
      summary: 'Server-sent events: new and changed signals of your bank (event = signal.raised | signal.updated | signal.acknowledged | signal.resolved)',
      responses: { 200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: z.string() } } }, ...errorResponses },
    }),
    async (c) => {
      const ctx = ctxOf(c, deps);
      requireRole(ctx, ['risk_officer', 'credit_officer']);
      const feed = deps.signalFeed;
      if (!feed) throw new AppError('unavailable', 'The live signal stream is not running in this process');
      const bank = ctx.actor.type === 'user' ? ctx.actor.organizationId : null;
      return streamSSE(c, async (stream) => {
        const queue: SignalNotice[] = [];
        let wake: (() => void) | null = null;
        const unsubscribe = feed.subscribe((n) => {
          if (n.bankOrganizationId !== bank) return; // per bank: another bank's signals never reach this stream
          queue.push(n);
          wake?.();
        });
        stream.onAbort(unsubscribe);
        await stream.writeSSE({ event: 'ready', data: JSON.stringify({ bankOrganizationId: bank }) });
        while (!stream.aborted) {
          const next = queue.shift();
          if (!next) {
            await new Promise<void>((resolve) => {
              wake = resolve;
              setTimeout(resolve, 15_000); // a comment keeps proxies from closing an idle stream
            });
            wake = null;
            if (!queue.length && !stream.aborted) await stream.write(': keep-alive\n\n');
            continue;
          }
          try {
            await stream.writeSSE({ event: next.type, id: next.id, data: JSON.stringify(await getSignal({ ctx, input: { signalId: next.id } })) });
          } catch {
            // deleted or not visible: skip
          }
        }
        unsubscribe();
      });
    },
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/signals/digest', tags, summary: 'Morning digest: what business day T raised for your bank (JSON or plain text)', request: { query: digestInput }, responses: { 200: { description: 'The digest', content: { 'application/json': { schema: z.record(z.string(), z.unknown()) }, 'text/plain': { schema: z.string() } } }, ...errorResponses } }),
    async (c) => {
      const result = await morningDigest({ ctx: ctxOf(c, deps), input: c.req.valid('query') });
      return (result.format === 'text' ? c.text(result.text, 200) : c.json(result.digest, 200)) as never;
    },
  );
  app.openapi(
    createRoute({ method: 'post', path: '/v1/signals/{signalId}/acknowledge', tags, summary: 'Acknowledge a signal (risk officer), with a note', request: { params: idParam('signalId'), headers: idempotencyHeader, body: jsonBody(acknowledgeInput) }, responses: { 200: json(signalStatusOutput, 'Acknowledged'), ...writeErrorResponses } }),
    async (c) => c.json(await changeSignalStatus({ ctx: ctxOf(c, deps), input: { signalId: (c.req.valid('param') as { signalId: string }).signalId, to: 'acknowledged', body: c.req.valid('json') } }), 200),
  );
  app.openapi(
    createRoute({ method: 'post', path: '/v1/signals/{signalId}/resolve', tags, summary: 'Resolve a signal, or mark it a false positive (risk officer), with a note', request: { params: idParam('signalId'), headers: idempotencyHeader, body: jsonBody(resolveInput) }, responses: { 200: json(signalStatusOutput, 'Resolved'), ...writeErrorResponses } }),
    async (c) => {
      const body = c.req.valid('json');
      return c.json(await changeSignalStatus({ ctx: ctxOf(c, deps), input: { signalId: (c.req.valid('param') as { signalId: string }).signalId, to: body.resolution, body } }), 200);
    },
  );
  app.openapi(
    createRoute({ method: 'post', path: '/v1/webhook-endpoints', tags, summary: 'Register a bank endpoint for signals (Standard Webhooks); the secret is shown once', request: { headers: idempotencyHeader, body: jsonBody(createEndpointInput) }, responses: { 201: json(createdEndpointOutput, 'Created'), ...writeErrorResponses } }),
    async (c) => {
      c.set('idempotencyNoStore', true);
      return c.json(await createWebhookEndpoint({ ctx: ctxOf(c, deps), input: c.req.valid('json'), secretKey: deps.deviceSecretKey }), 201);
    },
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/webhook-endpoints', tags, summary: "The bank's webhook endpoints", responses: { 200: json(z.object({ items: z.array(endpointOutput) }), 'Endpoints'), ...errorResponses } }),
    async (c) => c.json(await listWebhookEndpoints({ ctx: ctxOf(c, deps) }), 200),
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/webhook-endpoints/{endpointId}/deliveries', tags, summary: 'Recent deliveries with every attempt', request: { params: idParam('endpointId') }, responses: { 200: json(z.object({ items: z.array(deliveryOutput) }), 'Deliveries'), ...errorResponses } }),
    async (c) => c.json(await listWebhookDeliveries({ ctx: ctxOf(c, deps), input: c.req.valid('param') as { endpointId: string } }), 200),
  );
}
