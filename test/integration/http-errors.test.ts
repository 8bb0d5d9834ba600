import { beforeAll, describe, expect, it } from 'vitest';
import { call, expectProblem, factories, testApp } from '../support/harness';

let app: Awaited<ReturnType<typeof testApp>>['app'];
let admin: { key: string };
let supplier: { key: string };

beforeAll(async () => {
  ({ app } = await testApp());
  const f = await factories();
  admin = await f.actor('platform_admin');
  supplier = await f.actor('supplier_user');
});

describe('every error is RFC 9457 problem+json', () => {
  it('404 for an unknown route, with or without /v1', async () => {
    expectProblem(await call(app, 'GET', '/nowhere'), 404, 'not_found');
    expectProblem(await call(app, 'GET', '/v1/nowhere', { key: supplier.key }), 404, 'not_found');
  });

  it('405 with Allow for a known path and an unsupported method', async () => {
    const res = await call(app, 'DELETE', '/v1/organizations', { key: admin.key });
    expectProblem(res, 405, 'method_not_allowed');
    expect(res.headers.get('allow')).toMatch(/GET/);
    expect(res.headers.get('allow')).toMatch(/POST/);
    expectProblem(await call(app, 'POST', '/healthz'), 405, 'method_not_allowed');
  });

  it('401 without a key, with a malformed header, with an unknown key', async () => {
    expectProblem(await call(app, 'GET', '/v1/me'), 401, 'unauthenticated');
    expectProblem(await call(app, 'GET', '/v1/me', { headers: { authorization: 'Basic abc' } }), 401, 'unauthenticated');
    expectProblem(await call(app, 'GET', '/v1/me', { key: 'tfk_thisKeyWasNeverIssuedByAnyoneAtAll' }), 401, 'unauthenticated');
  });

  it('413 for a body over the limit', async () => {
    const res = await call(app, 'POST', '/v1/organizations', { key: admin.key, rawBody: JSON.stringify({ name: 'x'.repeat(70 * 1024) }) });
    expectProblem(res, 413, 'payload_too_large');
  });

  it('415 for a body that is not JSON where JSON is declared, and for no content type', async () => {
    const res = await call(app, 'POST', '/v1/organizations', { key: admin.key, rawBody: 'kind=bank', contentType: 'application/x-www-form-urlencoded' });
    expect(expectProblem(res, 415, 'unsupported_media_type').accepted).toEqual(['application/json']);
    const bare = await app.request('/v1/organizations', { method: 'POST', headers: { authorization: `Bearer ${admin.key}` }, body: '{}' });
    expect(bare.status).toBe(415);
  });

  it('400 for malformed JSON', async () => {
    expectProblem(await call(app, 'POST', '/v1/organizations', { key: admin.key, rawBody: '{"kind":' }), 400, 'validation_failed');
  });

  it('400 lists every field path and message from zod', async () => {
    const res = await call(app, 'POST', '/v1/organizations', { key: admin.key, body: { kind: 'pirate', name: '', creditCode: '91350100M000100Y44' } });
    const problem = expectProblem(res, 400, 'validation_failed');
    const paths = problem.errors.map((e: { path: string }) => e.path).sort();
    expect(paths).toEqual(['body/creditCode', 'body/kind', 'body/name']);
    expect(problem.errors.find((e: { path: string }) => e.path === 'body/creditCode').message).toMatch(/check character is "4" but GB 32100-2015 gives "3"/);
  });

  it('400 for a malformed id in the path and a bad query value', async () => {
    expect(expectProblem(await call(app, 'GET', '/v1/organizations/not-a-uuid', { key: admin.key }), 400, 'validation_failed').errors[0].path).toBe('path/organizationId');
    expect(expectProblem(await call(app, 'GET', '/v1/organizations?limit=0', { key: admin.key }), 400, 'validation_failed').errors[0].path).toBe('query/limit');
  });

  it('500 returns only the request id, never the message or stack, and logs the error', async () => {
    const logged: unknown[] = [];
    const { app: failing } = await testApp({
      log: { child: () => ({ error: (o: unknown) => logged.push(o), info: () => {}, child: () => ({}) }) } as never,
    });
    failing.get('/explode', () => {
      throw new Error('secret database detail');
    });
    const res = await call(failing, 'GET', '/explode', { headers: { 'x-request-id': 'req-500-test' } });
    const problem = expectProblem(res, 500, 'internal');
    expect(problem.requestId).toBe('req-500-test');
    expect(res.text).not.toContain('secret database detail');
    expect(res.text).not.toContain('Error');
    expect(logged).toHaveLength(1);
  });

  it('echoes a sane X-Request-Id and makes one up otherwise', async () => {
    const res = await call(app, 'GET', '/healthz', { headers: { 'x-request-id': 'abc-123' } });
    expect(res.headers.get('x-request-id')).toBe('abc-123');
    const other = await call(app, 'GET', '/healthz', { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(other.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
