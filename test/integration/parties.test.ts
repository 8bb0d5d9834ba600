import { beforeAll, describe, expect, it } from 'vitest';
import { userRoles, type UserRole } from '../../src/modules/parties/roles';
import { call, expectProblem, factories, randomCreditCode, testApp } from '../support/harness';

type Actor = Awaited<ReturnType<Awaited<ReturnType<typeof factories>>['actor']>>;

let app: Awaited<ReturnType<typeof testApp>>['app'];
let f: Awaited<ReturnType<typeof factories>>;
let admin: Actor;
const byRole = {} as Record<UserRole, Actor>;
let supplierA: Actor;
let supplierB: Actor;
let colleagueOfA: Actor;

beforeAll(async () => {
  ({ app } = await testApp());
  f = await factories();
  admin = await f.actor('platform_admin');
  for (const role of userRoles) byRole[role] = await f.actor(role);
  supplierA = await f.actor('supplier_user');
  supplierB = await f.actor('supplier_user');
  colleagueOfA = await f.actor('supplier_user', supplierA.organizationId);
});

describe('organizations', () => {
  it('a platform admin onboards an enterprise; its credit code is normalized', async () => {
    const code = randomCreditCode();
    const res = await call(app, 'POST', '/v1/organizations', { key: admin.key, body: { kind: 'core_enterprise', name: ' 华东重工集团 ', creditCode: ` ${code.toLowerCase()} ` } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ kind: 'core_enterprise', name: '华东重工集团', creditCode: code, status: 'active' });
    const again = await call(app, 'POST', '/v1/organizations', { key: admin.key, body: { kind: 'supplier', name: 'copy', creditCode: code } });
    expect(expectProblem(again, 409, 'conflict').detail).toContain(code);
  });

  it('every role other than platform admin gets 403 creating one', async () => {
    for (const role of userRoles.filter((r) => r !== 'platform_admin')) {
      const res = await call(app, 'POST', '/v1/organizations', { key: byRole[role].key, body: { kind: 'supplier', name: 'x', creditCode: randomCreditCode() } });
      expectProblem(res, 403, 'forbidden');
    }
  });

  it('a tenant lists only its own organization; the platform lists all', async () => {
    const own = await call(app, 'GET', '/v1/organizations', { key: supplierA.key });
    expect(own.status).toBe(200);
    expect(own.body.items.map((o: { id: string }) => o.id)).toEqual([supplierA.organizationId]);
    const all = await call(app, 'GET', '/v1/organizations?kind=supplier&limit=200', { key: admin.key });
    const ids = all.body.items.map((o: { id: string }) => o.id);
    expect(ids).toEqual(expect.arrayContaining([supplierA.organizationId, supplierB.organizationId]));
  });

  it('pages with a cursor without repeating or skipping', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: { id: string }[]; nextCursor: string | null } } = await call(app, 'GET', `/v1/organizations?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { key: admin.key });
      seen.push(...res.body.items.map((o) => o.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBeGreaterThanOrEqual(userRoles.length + 2);
    expectProblem(await call(app, 'GET', '/v1/organizations?cursor=garbage', { key: admin.key }), 400, 'validation_failed');
  });
});

describe('users', () => {
  it('a platform admin adds a user whose role fits the organization kind', async () => {
    const res = await call(app, 'POST', `/v1/organizations/${supplierA.organizationId}/users`, { key: admin.key, body: { email: 'Li.Wei@Example.cn', displayName: '李伟', role: 'supplier_user' } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ email: 'li.wei@example.cn', role: 'supplier_user', organizationId: supplierA.organizationId });
    const dup = await call(app, 'POST', `/v1/organizations/${supplierB.organizationId}/users`, { key: admin.key, body: { email: 'LI.WEI@example.cn', displayName: 'x', role: 'supplier_user' } });
    expectProblem(dup, 409, 'conflict');
  });

  it('refuses a role that does not fit the organization', async () => {
    const res = await call(app, 'POST', `/v1/organizations/${supplierA.organizationId}/users`, { key: admin.key, body: { email: 'x@example.cn', displayName: 'x', role: 'credit_officer' } });
    expect(expectProblem(res, 400, 'validation_failed').errors[0].path).toBe('body/role');
  });

  it('lists and reads users of the own organization only', async () => {
    const list = await call(app, 'GET', `/v1/organizations/${supplierA.organizationId}/users`, { key: supplierA.key });
    expect(list.body.items.map((u: { id: string }) => u.id)).toEqual(expect.arrayContaining([supplierA.userId, colleagueOfA.userId]));
    expect((await call(app, 'GET', `/v1/users/${colleagueOfA.userId}`, { key: supplierA.key })).status).toBe(200);
  });
});

describe('API keys', () => {
  it('is shown once, stored hashed, authenticates, records last use, and stops working when revoked', async () => {
    const created = await call(app, 'POST', `/v1/users/${supplierA.userId}/api-keys`, { key: supplierA.key, body: { name: 'ERP connector' } });
    expect(created.status).toBe(201);
    const { secret, apiKey } = created.body;
    expect(secret).toMatch(/^tfk_/);
    expect(apiKey.prefix).toBe(secret.slice(0, 12));
    expect(apiKey.lastUsedAt).toBeNull();

    const me = await call(app, 'GET', '/v1/me', { key: secret });
    expect(me.body.user.id).toBe(supplierA.userId);
    expect(me.body.apiKey.lastUsedAt).not.toBeNull();

    const listed = await call(app, 'GET', `/v1/organizations/${supplierA.organizationId}/api-keys`, { key: supplierA.key });
    expect(listed.text).not.toContain(secret);
    expect(listed.body.items.some((k: { id: string }) => k.id === apiKey.id)).toBe(true);

    const { database } = await import('../support/harness').then((h) => h.services());
    const [row] = await database.sql`select secret_hash from api_keys where id = ${apiKey.id}`;
    expect(row!.secret_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row!.secret_hash).not.toContain(secret.slice(4));

    const revoked = await call(app, 'POST', `/v1/api-keys/${apiKey.id}/revoke`, { key: supplierA.key });
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).not.toBeNull();
    expectProblem(await call(app, 'GET', '/v1/me', { key: secret }), 401, 'unauthenticated');
  });

  it('an expired key no longer authenticates; an expiry in the past is refused', async () => {
    const past = await call(app, 'POST', `/v1/users/${supplierA.userId}/api-keys`, { key: supplierA.key, body: { name: 'old', expiresAt: '2020-01-01T00:00:00Z' } });
    expectProblem(past, 400, 'validation_failed');
    const soon = await call(app, 'POST', `/v1/users/${supplierA.userId}/api-keys`, { key: supplierA.key, body: { name: 'short', expiresAt: new Date(Date.now() + 1500).toISOString() } });
    expect(soon.status).toBe(201);
    expect((await call(app, 'GET', '/v1/me', { key: soon.body.secret })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1600));
    expectProblem(await call(app, 'GET', '/v1/me', { key: soon.body.secret }), 401, 'unauthenticated');
  });

  it("a user may not issue or revoke a colleague's key (403); the platform admin may", async () => {
    expectProblem(await call(app, 'POST', `/v1/users/${colleagueOfA.userId}/api-keys`, { key: supplierA.key, body: { name: 'x' } }), 403, 'forbidden');
    expectProblem(await call(app, 'POST', `/v1/api-keys/${colleagueOfA.apiKeyId}/revoke`, { key: supplierA.key }), 403, 'forbidden');
    const issued = await call(app, 'POST', `/v1/users/${colleagueOfA.userId}/api-keys`, { key: admin.key, body: { name: 'by admin' } });
    expect(issued.status).toBe(201);
    expect((await call(app, 'POST', `/v1/api-keys/${issued.body.apiKey.id}/revoke`, { key: admin.key })).status).toBe(200);
  });
});

describe('another tenant is invisible: 404 on every endpoint that takes an id', () => {
  const endpoints = (other: Actor): [string, string, unknown?][] => [
    ['GET', `/v1/organizations/${other.organizationId}`],
    ['GET', `/v1/organizations/${other.organizationId}/users`],
    ['GET', `/v1/organizations/${other.organizationId}/api-keys`],
    ['GET', `/v1/users/${other.userId}`],
    ['POST', `/v1/users/${other.userId}/api-keys`, { name: 'intruder' }],
    ['POST', `/v1/api-keys/${other.apiKeyId}/revoke`],
  ];

  it('supplier A reading or touching supplier B', async () => {
    for (const [method, path, body] of endpoints(supplierB)) {
      const res = await call(app, method, path, { key: supplierA.key, body });
      expectProblem(res, 404, 'not_found');
    }
    // …and B's key still works: the revoke above did nothing.
    expect((await call(app, 'GET', '/v1/me', { key: supplierB.key })).status).toBe(200);
  });

  it('every non-platform role against an organization of another tenant', async () => {
    for (const role of userRoles.filter((r) => r !== 'platform_admin')) {
      for (const [method, path, body] of endpoints(supplierB)) {
        expectProblem(await call(app, method, path, { key: byRole[role].key, body }), 404, 'not_found');
      }
    }
  });

  it('a missing id reads the same as another tenant’s', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    const a = await call(app, 'GET', `/v1/organizations/${missing}`, { key: admin.key });
    const b = await call(app, 'GET', `/v1/organizations/${supplierB.organizationId}`, { key: supplierA.key });
    expect(expectProblem(a, 404, 'not_found').detail).toBe(expectProblem(b, 404, 'not_found').detail);
  });

  it('the platform admin sees every tenant', async () => {
    expect((await call(app, 'GET', `/v1/organizations/${supplierB.organizationId}`, { key: admin.key })).status).toBe(200);
    expect((await call(app, 'GET', `/v1/users/${supplierB.userId}`, { key: admin.key })).status).toBe(200);
  });
});

describe('GET /v1/me', () => {
  it('answers for every role', async () => {
    for (const role of userRoles) {
      const res = await call(app, 'GET', '/v1/me', { key: byRole[role].key });
      expect(res.status).toBe(200);
      expect(res.body.user.role).toBe(role);
      expect(res.body.organization.id).toBe(byRole[role].organizationId);
    }
  });
});

describe('audit', () => {
  it('each change writes its audit row with the actor and request id', async () => {
    const res = await call(app, 'POST', '/v1/organizations', { key: admin.key, body: { kind: 'bank', name: '某某银行', creditCode: randomCreditCode() }, headers: { 'x-request-id': 'audit-check-1' } });
    const { database } = await import('../support/harness').then((h) => h.services());
    const rows = await database.sql`select action, actor_user_id, request_id from audit_events where subject_id = ${res.body.id}`;
    expect(rows).toEqual([{ action: 'organization.created', actor_user_id: admin.userId, request_id: 'audit-check-1' }]);
  });
});
