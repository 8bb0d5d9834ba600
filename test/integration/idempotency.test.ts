import { beforeAll, describe, expect, it } from 'vitest';
import { claimIdempotencyKey, purgeExpiredIdempotencyKeys } from '../../src/modules/idempotency/idempotency-keys';
import { call, expectProblem, factories, randomCreditCode, services, testApp } from '../support/harness';

let app: Awaited<ReturnType<typeof testApp>>['app'];
let adminA: { key: string; organizationId: string };
let supplierA: { key: string; organizationId: string; userId: string };
let supplierB: { key: string; organizationId: string; userId: string };

const orgBody = () => ({ kind: 'supplier', name: 'Idem Co', creditCode: randomCreditCode() });
const countOrgs = async (creditCode: string) => {
  const { database } = await services();
  const [row] = await database.sql<{ n: number }[]>`select count(*)::int as n from organizations where credit_code = ${creditCode}`;
  return row!.n;
};

beforeAll(async () => {
  ({ app } = await testApp());
  const f = await factories();
  adminA = await f.actor('platform_admin');
  supplierA = await f.actor('supplier_user');
  supplierB = await f.actor('supplier_user');
});

describe('Idempotency-Key', () => {
  it('same key and body: the stored status and body, marked replayed, created once', async () => {
    const body = orgBody();
    const first = await call(app, 'POST', '/v1/organizations', { key: adminA.key, body, headers: { 'idempotency-key': 'onboard-1' } });
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const second = await call(app, 'POST', '/v1/organizations', { key: adminA.key, body, headers: { 'idempotency-key': 'onboard-1' } });
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body).toEqual(first.body);
    expect(await countOrgs(body.creditCode)).toBe(1);
  });

  it('a stored client error replays too (the request is not re-run)', async () => {
    const body = { kind: 'supplier', name: 'x', creditCode: '91350100M000100Y44' };
    const first = await call(app, 'POST', '/v1/organizations', { key: adminA.key, body, headers: { 'idempotency-key': 'bad-1' } });
    expect(first.status).toBe(400);
    const again = await call(app, 'POST', '/v1/organizations', { key: adminA.key, body, headers: { 'idempotency-key': 'bad-1' } });
    expect(again.status).toBe(400);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
  });

  it('same key, different body: 422 and nothing created', async () => {
    await call(app, 'POST', '/v1/organizations', { key: adminA.key, body: orgBody(), headers: { 'idempotency-key': 'onboard-2' } });
    const other = orgBody();
    const res = await call(app, 'POST', '/v1/organizations', { key: adminA.key, body: other, headers: { 'idempotency-key': 'onboard-2' } });
    expectProblem(res, 422, 'idempotency_key_reused');
    expect(await countOrgs(other.creditCode)).toBe(0);
  });

  it('same key on another path is a different request: 422', async () => {
    await call(app, 'POST', `/v1/users/${supplierA.userId}/api-keys`, { key: supplierA.key, body: { name: 'k' }, headers: { 'idempotency-key': 'path-1' } });
    const res = await call(app, 'POST', `/v1/users/${supplierA.userId}/api-keys`.replace(supplierA.userId, supplierB.userId), {
      key: supplierA.key,
      body: { name: 'k' },
      headers: { 'idempotency-key': 'path-1' },
    });
    expectProblem(res, 422, 'idempotency_key_reused');
  });

  it('same key while the first request is still running: 409', async () => {
    const { database } = await services();
    const body = JSON.stringify({ name: 'slow' });
    const path = `/v1/users/${supplierA.userId}/api-keys`;
    const { createHash } = await import('node:crypto');
    const requestHash = createHash('sha256').update(`POST ${path}\napplication/json\n`).update(body).digest('hex');
    // The first attempt has claimed the key and not finished (as if its handler were still running).
    expect(await claimIdempotencyKey(database.db, new Date(), 24, { organizationId: supplierA.organizationId, key: 'running-1', method: 'POST', path, requestHash })).toMatchObject({ kind: 'claimed' });
    const res = await call(app, 'POST', path, { key: supplierA.key, rawBody: body, headers: { 'idempotency-key': 'running-1' } });
    expectProblem(res, 409, 'idempotency_in_progress');
  });

  it('concurrent duplicates: exactly one runs, the others are 409 or a replay', async () => {
    const body = { name: 'race' };
    const results = await Promise.all(
      Array.from({ length: 8 }, () => call(app, 'POST', `/v1/users/${supplierA.userId}/api-keys`, { key: supplierA.key, body, headers: { 'idempotency-key': 'race-1' } })),
    );
    const created = results.filter((r) => r.status === 201 && !r.headers.get('idempotent-replayed'));
    expect(created).toHaveLength(1);
    for (const r of results) expect([201, 409]).toContain(r.status);
    const { database } = await services();
    const [row] = await database.sql<{ n: number }[]>`select count(*)::int as n from api_keys where user_id = ${supplierA.userId} and name = 'race'`;
    expect(row!.n).toBe(1);
  });

  it('keys are scoped per organization: one tenant never replays another’s response', async () => {
    const a = await call(app, 'POST', `/v1/users/${supplierA.userId}/api-keys`, { key: supplierA.key, body: { name: 'scoped' }, headers: { 'idempotency-key': 'shared-name' } });
    const b = await call(app, 'POST', `/v1/users/${supplierB.userId}/api-keys`, { key: supplierB.key, body: { name: 'scoped' }, headers: { 'idempotency-key': 'shared-name' } });
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(b.headers.get('idempotent-replayed')).toBeNull();
    expect(b.body.apiKey.userId).toBe(supplierB.userId);
  });

  it('refuses a malformed key', async () => {
    const res = await call(app, 'POST', '/v1/organizations', { key: adminA.key, body: orgBody(), headers: { 'idempotency-key': 'x'.repeat(300) } });
    expectProblem(res, 400, 'validation_failed');
  });

  it('keys live at least 24 h, then are purged and may be reused', async () => {
    const { database } = await services();
    const body = orgBody();
    await call(app, 'POST', '/v1/organizations', { key: adminA.key, body, headers: { 'idempotency-key': 'ttl-1' } });
    const [row] = await database.sql<{ ttl: number }[]>`select extract(epoch from expires_at - created_at)::int as ttl from idempotency_keys where key = 'ttl-1' and organization_id = ${adminA.organizationId}`;
    expect(row!.ttl).toBeGreaterThanOrEqual(24 * 3600);
    await purgeExpiredIdempotencyKeys({ db: database.db, now: new Date() });
    expect((await database.sql`select 1 from idempotency_keys where key = 'ttl-1'`).length).toBe(1);
    // Age this one key past its expiry (other suites' keys stay untouched), then purge.
    await database.sql`update idempotency_keys set expires_at = now() - interval '1 second' where key = 'ttl-1' and organization_id = ${adminA.organizationId}`;
    await purgeExpiredIdempotencyKeys({ db: database.db, now: new Date() });
    expect((await database.sql`select 1 from idempotency_keys where key = 'ttl-1'`).length).toBe(0);
    // The same key now starts a new request instead of replaying.
    const again = await call(app, 'POST', '/v1/organizations', { key: adminA.key, body: orgBody(), headers: { 'idempotency-key': 'ttl-1' } });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBeNull();
  });
});
