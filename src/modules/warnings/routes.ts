import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { ctxOf } from '../../http/context';
import { errorResponses, idempotencyHeader, json, jsonBody, writeErrorResponses } from '../../http/responses';
import type { AppDeps, AppEnv } from '../../http/types';
import { idParam } from '../parties/schemas';
import { acknowledgeInput, changeSignalStatus, resolveInput } from './signal-status';
import { createEndpointInput, createdEndpointOutput, createWebhookEndpoint, deliveryOutput, endpointOutput, listWebhookDeliveries, listWebhookEndpoints } from './webhooks';

const tags = ['Warnings'];
const signalStatusOutput = z
  .object({ id: z.uuid(), rule: z.string(), severity: z.string(), status: z.string(), statusNote: z.string().nullable(), statusChangedBy: z.string().nullable(), statusChangedAt: z.iso.datetime() })
  .openapi('SignalStatus');

export function registerWarningsRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
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
