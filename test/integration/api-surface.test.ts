import { Validator } from '@seriousme/openapi-schema-validator';
import { beforeAll, describe, expect, it } from 'vitest';
import { call, expectProblem, testApp } from '../support/harness';

let app: Awaited<ReturnType<typeof testApp>>['app'];

beforeAll(async () => {
  ({ app } = await testApp());
});

describe('operational endpoints', () => {
  it('/healthz says the process is alive', async () => {
    const res = await call(app, 'GET', '/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('/readyz is 200 when PostgreSQL, Redis and the broker answer', async () => {
    const res = await call(app, 'GET', '/readyz');
    expect(res.status).toBe(200);
    expect(res.body.checks).toEqual({ postgres: 'ok', redis: 'ok', broker: 'ok' });
  });

  it('/readyz is 503 naming what is down (a Redis nobody listens on)', async () => {
    const { Redis } = await import('ioredis');
    const dead = new Redis('redis://127.0.0.1:1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
    dead.on('error', () => {});
    const { app: unready, deps } = await testApp();
    deps.readiness[1] = { name: 'redis', check: async () => void (await dead.connect().then(() => dead.ping())) };
    const res = await call(unready, 'GET', '/readyz');
    const problem = expectProblem(res, 503, 'unavailable');
    expect(problem.detail).toMatch(/redis/);
    expect(problem.checks.postgres).toBe('ok');
    expect(problem.checks.redis).toMatch(/^down/);
    dead.disconnect();
  });

  it('/metrics serves Prometheus text that counts requests', async () => {
    await call(app, 'GET', '/healthz');
    const res = await app.request('/metrics');
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/threeflow_http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+/);
    expect(text).toContain('threeflow_http_request_duration_seconds_bucket');
  });
});

describe('OpenAPI', () => {
  it('/openapi.json is a valid OpenAPI 3.1 document generated from the request schemas', async () => {
    const res = await call(app, 'GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    const validator = new Validator();
    const result = await validator.validate(res.body);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    const create = res.body.paths['/v1/organizations'].post;
    expect(create.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/CreateOrganization');
    expect(res.body.components.schemas.CreateOrganization.required).toEqual(expect.arrayContaining(['kind', 'name', 'creditCode']));
    expect(create.parameters.some((p: { name: string; in: string }) => p.name === 'Idempotency-Key' && p.in === 'header')).toBe(true);
    for (const path of ['/v1/me', '/v1/organizations/{organizationId}', '/v1/users/{userId}/api-keys', '/v1/api-keys/{apiKeyId}/revoke']) {
      expect(res.body.paths[path]).toBeDefined();
    }
  });

  it('/docs renders the reference page from local assets, no CDN', async () => {
    const res = await call(app, 'GET', '/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(res.text).not.toMatch(/https?:\/\//);
    for (const asset of ['/docs/assets/swagger-ui-bundle.js', '/docs/assets/swagger-ui.css']) {
      expect(res.text).toContain(asset);
      const a = await app.request(asset);
      expect(a.status).toBe(200);
      expect((await a.text()).length).toBeGreaterThan(10_000);
    }
    expectProblem(await call(app, 'GET', '/docs/assets/etc-passwd'), 404, 'not_found');
  });
});
