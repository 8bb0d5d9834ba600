import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/lib/clock';
import { raiseSignal } from '../../src/modules/warnings/signals';
import { startSignalFeed, type SignalFeed } from '../../src/modules/warnings/feed';
import { call, factories, services, testApp } from '../support/harness';
import { ok } from '../support/financing';

let feed: SignalFeed;
beforeAll(async () => {
  const { database } = await services();
  feed = await startSignalFeed(database.sql);
});
afterAll(async () => feed.close());

/** Opens the stream as `key` and reads it until a pattern shows (or 10 s pass). */
async function openStream(app: Awaited<ReturnType<typeof testApp>>['app'], key: string, query = '') {
  const controller = new AbortController();
  const res = await app.request(`/v1/signals/stream${query}`, { headers: { authorization: `Bearer ${key}` }, signal: controller.signal });
  const reader = res.body!.getReader();
  let text = '';
  const readUntil = async (pattern: RegExp) => {
    const until = Date.now() + 10_000;
    while (!pattern.test(text)) {
      if (Date.now() > until) throw new Error(`stream did not show ${pattern}: ${text}`);
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended');
      text += new TextDecoder().decode(value);
    }
  };
  const close = async () => {
    controller.abort();
    await reader.cancel().catch(() => {});
  };
  return { res, readUntil, text: () => text, close };
}

describe('live signal stream (server-sent events)', () => {
  it("streams the bank's new and changed signals, and never another bank's", async () => {
    const { app } = await testApp({ signalFeed: feed });
    const f = await factories();
    const risk = await f.actor('risk_officer');
    const stranger = await f.actor('risk_officer');
    const { res, readUntil, text, close } = await openStream(app, risk.key);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    await readUntil(/event: ready/);
    const { database } = await services();
    await raiseSignal(database.db, new Date(), { rule: 'device_offline', subjectType: 'pledge', subjectId: randomBytes(6).toString('hex'), bankOrganizationId: stranger.organizationId, severity: 'orange', evidence: {} });
    const mine = await raiseSignal(database.db, new Date(), { rule: 'unauthorized_outbound', subjectType: 'pledge', subjectId: randomBytes(6).toString('hex'), bankOrganizationId: risk.organizationId, severity: 'red', evidence: { quantity: 7 } });
    await readUntil(new RegExp(`event: signal.raised\\ndata: .*"id":"${mine.id}"`));
    expect(text()).not.toContain('device_offline');
    await ok(call(app, 'POST', `/v1/signals/${mine.id}/acknowledge`, { key: risk.key, body: { note: 'on it' } }));
    await readUntil(/event: signal.acknowledged/);
    await close();
  });

  it('per role and filter: a credit officer follows the signals about credit lines, here only the red ones', async () => {
    const { app } = await testApp({ signalFeed: feed });
    const f = await factories();
    const risk = await f.actor('risk_officer');
    const credit = await f.actor('credit_officer', risk.organizationId);
    expect((await call(app, 'GET', '/v1/signals/stream?severity=purple', { key: credit.key })).status).toBe(400);
    const { readUntil, text, close } = await openStream(app, credit.key, '?severity=red');
    await readUntil(/event: ready/);
    const { database } = await services();
    const line = randomUUID();
    const base = { subjectType: 'pledge', bankOrganizationId: risk.organizationId, evidence: {} };
    const orangeOnLine = await raiseSignal(database.db, new Date(), { ...base, rule: 'device_offline', subjectId: randomBytes(6).toString('hex'), severity: 'orange', creditLineId: line });
    const redNoLine = await raiseSignal(database.db, new Date(), { ...base, rule: 'registry_dishonest_debtor_added', subjectType: 'enterprise', subjectId: randomBytes(6).toString('hex'), severity: 'red' });
    const redOnLine = await raiseSignal(database.db, new Date(), { ...base, rule: 'unauthorized_outbound', subjectId: randomBytes(6).toString('hex'), severity: 'red', creditLineId: line });
    await readUntil(new RegExp(`"id":"${redOnLine.id}"`));
    expect(text()).not.toContain(orangeOnLine.id);
    expect(text()).not.toContain(redNoLine.id);
    await close();
  });
});

describe('morning digest', () => {
  it('groups what business day T raised, with day boundaries in Asia/Shanghai (23:59 and 00:01 are different days)', async () => {
    const f = await factories();
    const risk = await f.actor('risk_officer');
    const { database } = await services();
    const late = await raiseSignal(database.db, new Date('2026-11-20T15:59:00Z'), { rule: 'coverage_below_lines', subjectType: 'credit_line', subjectId: randomBytes(6).toString('hex'), bankOrganizationId: risk.organizationId, severity: 'orange', evidence: {} }); // 23:59 on the 20th in Shanghai
    const early = await raiseSignal(database.db, new Date('2026-11-20T16:01:00Z'), { rule: 'unauthorized_outbound', subjectType: 'pledge', subjectId: randomBytes(6).toString('hex'), bankOrganizationId: risk.organizationId, severity: 'red', evidence: {} }); // 00:01 on the 21st
    const { app } = await testApp({ clock: fixedClock('2026-11-22T00:30:00Z') }); // 08:30 on the 22nd: T = the 21st
    const digest = await ok(call(app, 'GET', '/v1/signals/digest', { key: risk.key }));
    expect(digest).toMatchObject({ businessDate: '2026-11-21', from: '2026-11-20T16:00:00.000Z', to: '2026-11-21T16:00:00.000Z', counts: { red: 1, orange: 0, yellow: 0 } });
    expect(digest.signals.map((s: { id: string }) => s.id)).toEqual([early.id]);
    const day20 = await ok(call(app, 'GET', '/v1/signals/digest?date=2026-11-20', { key: risk.key }));
    expect(day20.signals.map((s: { id: string }) => s.id)).toEqual([late.id]);
    const text = await call(app, 'GET', '/v1/signals/digest?format=text', { key: risk.key });
    expect(text.headers.get('content-type')).toMatch(/text\/plain/);
    expect(text.text).toMatch(/^threeflow morning digest — business day 2026-11-21 \(Asia\/Shanghai\)\n1 new signal: 1 red, 0 orange, 0 yellow\n\n\[RED\] unauthorized_outbound/);
    const supplier = await f.actor('supplier_user');
    expect((await call(app, 'GET', '/v1/signals/digest', { key: supplier.key })).status).toBe(403);
  });

  it("counts the night's findings for T (raised at 02:00 on T+1) in T's digest, and lists what is assigned to the officer", async () => {
    const f = await factories();
    const risk = await f.actor('risk_officer');
    const { database } = await services();
    const night = await raiseSignal(database.db, new Date('2026-11-21T18:00:00Z'), { rule: 'coverage_below_lines', subjectType: 'credit_line', subjectId: randomBytes(6).toString('hex'), bankOrganizationId: risk.organizationId, severity: 'red', evidence: {}, businessDate: '2026-11-21' });
    const older = await raiseSignal(database.db, new Date('2026-11-10T03:00:00Z'), { rule: 'device_offline', subjectType: 'pledge', subjectId: randomBytes(6).toString('hex'), bankOrganizationId: risk.organizationId, severity: 'orange', evidence: {} });
    await database.sql`update signals set assignee_user_id = ${risk.userId} where id = ${older.id}`;
    const { app } = await testApp({ clock: fixedClock('2026-11-22T00:30:00Z') });
    const digest = await ok(call(app, 'GET', '/v1/signals/digest', { key: risk.key }));
    expect(digest.signals.map((s: { id: string }) => s.id)).toEqual([night.id]);
    expect(digest.assignedToYou.map((s: { id: string }) => s.id)).toEqual([older.id]);
    expect((await call(app, 'GET', '/v1/signals/digest?format=text', { key: risk.key })).text).toContain('assigned to you and still open: 1');
  });
});
