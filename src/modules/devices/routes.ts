import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { ctxOf } from '../../http/context';
import { errorResponses, idempotencyHeader, json, jsonBody, writeErrorResponses } from '../../http/responses';
import type { AppDeps, AppEnv } from '../../http/types';
import { pageQuerySchema } from '../../lib/pagination';
import { idParam } from '../parties/schemas';
import { deviceCredentialsOutput, deviceOutput, devicePage, getDevice, listDevices, registerDevice, registerDeviceInput, rotateDeviceCredentials, setDeviceStatus } from './registry';

const tags = ['Devices'];
const deviceId = idParam('deviceId');
type D = { deviceId: string };

export function registerDeviceRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  app.openapi(
    createRoute({ method: 'post', path: '/v1/devices', tags, summary: 'Register a device in one of your warehouses; its secret and broker password are shown once', request: { headers: idempotencyHeader, body: jsonBody(registerDeviceInput) }, responses: { 201: json(deviceCredentialsOutput, 'Registered'), ...writeErrorResponses } }),
    async (c) => {
      c.set('idempotencyNoStore', true);
      return c.json(await registerDevice({ ctx: ctxOf(c, deps), input: c.req.valid('json'), secretKey: deps.deviceSecretKey }), 201);
    },
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/devices', tags, summary: 'Your devices with status and last seen', request: { query: pageQuerySchema }, responses: { 200: json(devicePage, 'A page'), ...errorResponses } }),
    async (c) => c.json(await listDevices({ ctx: ctxOf(c, deps), input: c.req.valid('query') }), 200),
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/devices/{deviceId}', tags, summary: 'A device', request: { params: deviceId }, responses: { 200: json(deviceOutput, 'The device'), ...errorResponses } }),
    async (c) => c.json(await getDevice({ ctx: ctxOf(c, deps), input: c.req.valid('param') as D }), 200),
  );
  app.openapi(
    createRoute({ method: 'post', path: '/v1/devices/{deviceId}/rotate-credentials', tags, summary: 'New signing secret and broker password (shown once); the old ones stop working', request: { params: deviceId, headers: idempotencyHeader }, responses: { 200: json(deviceCredentialsOutput, 'Rotated'), ...writeErrorResponses } }),
    async (c) => {
      c.set('idempotencyNoStore', true);
      return c.json(await rotateDeviceCredentials({ ctx: ctxOf(c, deps), input: c.req.valid('param') as D, secretKey: deps.deviceSecretKey }), 200);
    },
  );
  for (const [action, status] of [['disable', 'disabled'], ['enable', 'active']] as const) {
    app.openapi(
      createRoute({ method: 'post', path: `/v1/devices/{deviceId}/${action}`, tags, summary: `${action === 'disable' ? 'Disable' : 'Enable'} a device (a disabled device's messages are quarantined)`, request: { params: deviceId, headers: idempotencyHeader }, responses: { 200: json(deviceOutput, 'Updated'), ...writeErrorResponses } }),
      async (c) => c.json(await setDeviceStatus({ ctx: ctxOf(c, deps), input: { ...(c.req.valid('param') as D), status } }), 200),
    );
  }
}
