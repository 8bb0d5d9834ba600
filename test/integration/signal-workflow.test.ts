import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client';
import { fixedClock } from '../../src/lib/clock';
import { startSignalFeed, type SignalFeed, type SignalNotice } from '../../src/modules/warnings/feed';
import { raiseSignal, type SignalInput } from '../../src/modules/warnings/signals';
import { call, expectProblem, factories, services, testApp } from '../support/harness';
import { confirmedInvoice, financingWorld, ok, type World } from '../support/financing';
import { collateralWorld, pledge, uniqCode } from '../support/collateral';

// 10:00 in Shanghai on the business day the release windows below are written against.
const clock = fixedClock('2026-11-22T02:00:00Z');
const window = { validFrom: '2026-11-22T00:00:00Z', validTo: '2026-11-23T00:00:00Z' };
let app: Awaited<ReturnType<typeof testApp>>['app'];
let f: Awaited<ReturnType<typeof factories>>;
let database: Database;
let feed: SignalFeed;

beforeAll(async () => {
  ({ app, database } = await testApp({ clock }));
  f = await factories();
  feed = await startSignalFeed((await services()).database.sql);
});
afterAll(async () => feed.close());

/** A signal of the world's bank, raised as the rules raise them (in the raiser's transaction). */
function raise(w: World, s: Partial<SignalInput> & Pick<SignalInput, 'severity'>, at = clock.now()) {
  return database.db.transaction((tx) =>
    raiseSignal(tx, at, { rule: `test_rule_${s.severity}`, subjectType: 'credit_line', subjectId: w.line.id, bankOrganizationId: w.credit.organizationId, evidence: { test: true }, ...s }),
  );
}

const setPolicy = (w: World, policy: Partial<{ freezeLineOnRed: boolean; blockReleaseOnRed: boolean; makerCheckerOnRed: boolean }>) =>
  ok(call(app, 'PUT', `/v1/programs/${w.program.id}/warning-policy`, { key: w.risk.key, body: { freezeLineOnRed: false, blockReleaseOnRed: false, makerCheckerOnRed: false, ...policy } }));

/** The audit rows of one subject, as the bank reads them through the API. */
async function auditOf(key: string, subjectType: string, subjectId: string) {
  return (await ok(call(app, 'GET', `/v1/audit-events?subjectType=${subjectType}&subjectId=${subjectId}&limit=200`, { key }))).items as { action: string; actorType: string; actorUserId: string | null; data: any }[];
}

const ids = (page: { items: { id: string }[] }) => page.items.map((i) => i.id);

describe('program warning rules and policy over HTTP', () => {
  it('lists the catalogue as the program runs it, re-parameterizes a rule (audited), refuses bad params with field paths', async () => {
    const w = await financingWorld(app, f);
    const other = await financingWorld(app, f);
    const base = `/v1/programs/${w.program.id}/warning-rules`;

    const before = await ok(call(app, 'GET', base, { key: w.risk.key }));
    expect(before.programId).toBe(w.program.id);
    const falling = before.rules.find((r: { ruleId: string }) => r.ruleId === 'coverage_falling_fast');
    expect(falling).toMatchObject({ enabled: true, overridden: false, params: { maxDailyDropBp: 1_000 }, defaultSeverity: 'orange' });
    expect(falling.parameterSchema.properties.maxDailyDropBp).toMatchObject({ type: 'integer', minimum: 0, maximum: 10_000 });
    expect(before.rules.map((r: { ruleId: string }) => r.ruleId)).toContain('device_offline');
    // The credit officer of the bank reads it too.
    expect((await ok(call(app, 'GET', base, { key: w.credit.key }))).rules).toHaveLength(before.rules.length);

    const set = await ok(call(app, 'PUT', `${base}/coverage_falling_fast`, { key: w.risk.key, body: { enabled: true, params: { maxDailyDropBp: 500 } } }));
    expect(set).toMatchObject({ ruleId: 'coverage_falling_fast', enabled: true, overridden: true, params: { maxDailyDropBp: 500 } });
    const off = await ok(call(app, 'PUT', `${base}/device_offline`, { key: w.risk.key, body: { enabled: false } }));
    expect(off).toMatchObject({ ruleId: 'device_offline', enabled: false, params: { maxSilentHours: 6 } });
    const after = await ok(call(app, 'GET', base, { key: w.risk.key }));
    expect(after.rules.find((r: { ruleId: string }) => r.ruleId === 'coverage_falling_fast')).toMatchObject({ params: { maxDailyDropBp: 500 }, overridden: true });
    expect(after.rules.find((r: { ruleId: string }) => r.ruleId === 'device_offline')).toMatchObject({ enabled: false });
    // Another program is untouched.
    expect((await ok(call(app, 'GET', `/v1/programs/${other.program.id}/warning-rules`, { key: other.risk.key }))).rules.find((r: { ruleId: string }) => r.ruleId === 'coverage_falling_fast').params).toEqual({ maxDailyDropBp: 1_000 });

    const audit = await auditOf(w.risk.key, 'program', w.program.id);
    const ruleRows = audit.filter((a) => a.action === 'program_rule.set');
    expect(ruleRows.map((a) => a.data.ruleId)).toEqual(['coverage_falling_fast', 'device_offline']);
    expect(ruleRows[0]).toMatchObject({ actorUserId: w.risk.userId, data: { before: null, after: { enabled: true, params: { maxDailyDropBp: 500 } } } });

    // Bad parameters: 400 naming each field under body/params; nothing changes.
    const bad = expectProblem(await call(app, 'PUT', `${base}/coverage_falling_fast`, { key: w.risk.key, body: { enabled: true, params: { maxDailyDropBp: -1 } } }), 400, 'validation_failed');
    expect(bad.errors.map((e: { path: string }) => e.path)).toEqual(['body/params/maxDailyDropBp']);
    const badType = expectProblem(await call(app, 'PUT', `${base}/device_offline`, { key: w.risk.key, body: { enabled: true, params: { maxSilentHours: 'six' } } }), 400, 'validation_failed');
    expect(badType.errors.map((e: { path: string }) => e.path)).toEqual(['body/params/maxSilentHours']);
    const noEnabled = expectProblem(await call(app, 'PUT', `${base}/device_offline`, { key: w.risk.key, body: { params: {} } }), 400, 'validation_failed');
    expect(noEnabled.errors.map((e: { path: string }) => e.path)).toContain('body/enabled');
    expect((await ok(call(app, 'GET', base, { key: w.risk.key }))).rules.find((r: { ruleId: string }) => r.ruleId === 'coverage_falling_fast').params).toEqual({ maxDailyDropBp: 500 });
    expect((await auditOf(w.risk.key, 'program', w.program.id)).filter((a) => a.action === 'program_rule.set')).toHaveLength(2);

    // Unknown rule, unknown program, another bank: 404; wrong role: 403; no key: 401.
    expectProblem(await call(app, 'PUT', `${base}/no_such_rule`, { key: w.risk.key, body: { enabled: true } }), 404, 'not_found');
    expectProblem(await call(app, 'GET', `/v1/programs/${randomUUID()}/warning-rules`, { key: w.risk.key }), 404, 'not_found');
    expectProblem(await call(app, 'GET', base, { key: other.risk.key }), 404, 'not_found');
    expectProblem(await call(app, 'PUT', `${base}/coverage_falling_fast`, { key: other.risk.key, body: { enabled: false } }), 404, 'not_found');
    expectProblem(await call(app, 'PUT', `${base}/coverage_falling_fast`, { key: w.credit.key, body: { enabled: false } }), 403, 'forbidden');
    expectProblem(await call(app, 'GET', base, { key: w.supplier.key }), 403, 'forbidden');
    expectProblem(await call(app, 'GET', `/v1/programs/not-a-uuid/warning-rules`, { key: w.risk.key }), 400, 'validation_failed');
    expectProblem(await call(app, 'GET', base), 401, 'unauthenticated');
    expectProblem(await call(app, 'PUT', `${base}/coverage_falling_fast`, { body: { enabled: false } }), 401, 'unauthenticated');
  });

  it('sets the red-signal policy (audited); defaults are all off; refuses bad bodies, other banks and other roles', async () => {
    const w = await financingWorld(app, f);
    const other = await financingWorld(app, f);
    const path = `/v1/programs/${w.program.id}/warning-policy`;
    expect(await ok(call(app, 'GET', path, { key: w.credit.key }))).toEqual({ programId: w.program.id, freezeLineOnRed: false, blockReleaseOnRed: false, makerCheckerOnRed: false });
    const set = await ok(call(app, 'PUT', path, { key: w.risk.key, body: { freezeLineOnRed: true, blockReleaseOnRed: false, makerCheckerOnRed: true } }));
    expect(set).toEqual({ programId: w.program.id, freezeLineOnRed: true, blockReleaseOnRed: false, makerCheckerOnRed: true });
    expect(await ok(call(app, 'GET', path, { key: w.risk.key }))).toEqual(set);
    const row = (await auditOf(w.risk.key, 'program', w.program.id)).find((a) => a.action === 'warning_policy.set');
    expect(row).toMatchObject({
      actorUserId: w.risk.userId,
      data: { before: { freezeLineOnRed: false, blockReleaseOnRed: false, makerCheckerOnRed: false }, after: { freezeLineOnRed: true, blockReleaseOnRed: false, makerCheckerOnRed: true } },
    });

    const bad = expectProblem(await call(app, 'PUT', path, { key: w.risk.key, body: { freezeLineOnRed: 'yes', makerCheckerOnRed: true } }), 400, 'validation_failed');
    expect(bad.errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['body/freezeLineOnRed', 'body/blockReleaseOnRed']));
    expectProblem(await call(app, 'PUT', path, { key: other.risk.key, body: { freezeLineOnRed: false, blockReleaseOnRed: false, makerCheckerOnRed: false } }), 404, 'not_found');
    expectProblem(await call(app, 'GET', path, { key: other.credit.key }), 404, 'not_found');
    expectProblem(await call(app, 'PUT', path, { key: w.credit.key, body: { freezeLineOnRed: false, blockReleaseOnRed: false, makerCheckerOnRed: false } }), 403, 'forbidden');
    expectProblem(await call(app, 'PUT', path, { key: w.core.key, body: { freezeLineOnRed: false, blockReleaseOnRed: false, makerCheckerOnRed: false } }), 403, 'forbidden');
    // Nothing of that changed the policy.
    expect(await ok(call(app, 'GET', path, { key: w.risk.key }))).toEqual(set);

    // A PUT repeated is the same state (idempotent by itself): the same body again answers the same policy.
    expect(await ok(call(app, 'PUT', path, { key: w.risk.key, body: { freezeLineOnRed: true, blockReleaseOnRed: false, makerCheckerOnRed: true } }))).toEqual(set);
    expect(await ok(call(app, 'GET', path, { key: w.risk.key }))).toEqual(set);
  });
});

describe('automatic actions on red', () => {
  it('with freezeLineOnRed, a red signal on the line freezes it (audited, recorded on the signal); an orange one does not', async () => {
    const w = await financingWorld(app, f);
    await setPolicy(w, { freezeLineOnRed: true });
    const orange = await raise(w, { severity: 'orange', rule: 'coverage_falling_fast', creditLineId: w.line.id });
    expect((await ok(call(app, 'GET', `/v1/credit-lines/${w.line.id}`, { key: w.credit.key }))).status).toBe('active');
    expect((await ok(call(app, 'GET', `/v1/signals/${orange.id}`, { key: w.risk.key }))).actions).toEqual([]);

    const red = await raise(w, { severity: 'red', rule: 'coverage_below_lines', creditLineId: w.line.id });
    const line = await ok(call(app, 'GET', `/v1/credit-lines/${w.line.id}`, { key: w.credit.key }));
    expect(line.status).toBe('frozen');
    expect(line.frozenReason).toContain(red.id);
    const signal = await ok(call(app, 'GET', `/v1/signals/${red.id}`, { key: w.risk.key }));
    expect(signal).toMatchObject({ severity: 'red', programId: w.program.id, creditLineId: w.line.id });
    expect(signal.actions).toEqual([{ action: 'credit_line_frozen', at: clock.now().toISOString(), detail: { creditLineId: w.line.id } }]);
    const frozenRows = (await auditOf(w.credit.key, 'credit_line', w.line.id)).filter((a) => a.action === 'credit_line.frozen');
    expect(frozenRows).toHaveLength(1);
    expect(frozenRows[0]).toMatchObject({ actorType: 'system:warnings', data: { before: { status: 'active' }, after: { status: 'frozen' }, signalId: red.id } });

    // Seen again, nothing is done twice.
    await raise(w, { severity: 'red', rule: 'coverage_below_lines', creditLineId: w.line.id });
    expect((await ok(call(app, 'GET', `/v1/signals/${red.id}`, { key: w.risk.key }))).actions).toHaveLength(1);
    expect((await auditOf(w.credit.key, 'credit_line', w.line.id)).filter((a) => a.action === 'credit_line.frozen')).toHaveLength(1);
  });

  it('without the policy a red signal freezes nothing', async () => {
    const w = await financingWorld(app, f);
    const red = await raise(w, { severity: 'red', rule: 'coverage_below_lines', creditLineId: w.line.id });
    expect((await ok(call(app, 'GET', `/v1/credit-lines/${w.line.id}`, { key: w.credit.key }))).status).toBe('active');
    expect((await ok(call(app, 'GET', `/v1/signals/${red.id}`, { key: w.risk.key }))).actions).toEqual([]);
    expect((await auditOf(w.credit.key, 'credit_line', w.line.id)).filter((a) => a.action === 'credit_line.frozen')).toEqual([]);
  });
});

describe('release orders while red (blockReleaseOnRed)', () => {
  it('refuses a release order while a red signal is open on the pledge or its line, naming the signals; allows it once resolved', async () => {
    const w = await collateralWorld(app, f);
    const lot = uniqCode('LOT');
    const p = await ok(pledge(app, w, [{ lotCode: lot, skuCode: w.sku.code, quantity: 100 }]), 201);
    const order = (quantity = 1) => call(app, 'POST', `/v1/pledges/${p.id}/release-orders`, { key: w.credit.key, body: { lotCode: lot, quantity, ...window } });
    await setPolicy(w, { blockReleaseOnRed: true });
    await ok(order(), 201); // no signal yet

    // An orange signal on the pledge does not block.
    await raise(w, { severity: 'orange', rule: 'device_offline', subjectType: 'pledge', subjectId: p.id });
    await ok(order(), 201);

    const onPledge = await raise(w, { severity: 'red', rule: 'unauthorized_outbound', subjectType: 'pledge', subjectId: p.id });
    const refused = expectProblem(await order(), 409, 'conflict');
    expect(refused.signalIds).toEqual([onPledge.id]);
    expect(refused.detail).toContain(onPledge.id);
    // Acknowledging is not resolving: still blocked.
    await ok(call(app, 'POST', `/v1/signals/${onPledge.id}/acknowledge`, { key: w.risk.key, body: { note: 'calling the warehouse' } }));
    expect(expectProblem(await order(), 409, 'conflict').signalIds).toEqual([onPledge.id]);
    await ok(call(app, 'POST', `/v1/signals/${onPledge.id}/resolve`, { key: w.risk.key, body: { resolution: 'resolved', note: 'goods back in the zone' } }));
    await ok(order(), 201);

    // A red signal raised for the pledge's credit line blocks too, as does one about the line itself.
    const onLine = await raise(w, { severity: 'red', rule: 'registry_dishonest_debtor_added', subjectType: 'supplier', subjectId: w.supplier.organizationId, creditLineId: w.line.id });
    const aboutLine = await raise(w, { severity: 'red', rule: 'coverage_below_liquidation', subjectType: 'credit_line', subjectId: w.line.id });
    expect(new Set(expectProblem(await order(), 409, 'conflict').signalIds)).toEqual(new Set([onLine.id, aboutLine.id]));
    await ok(call(app, 'POST', `/v1/signals/${onLine.id}/resolve`, { key: w.risk.key, body: { resolution: 'false_positive', note: 'another enterprise of the same name' } }));
    expect(expectProblem(await order(), 409, 'conflict').signalIds).toEqual([aboutLine.id]);

    // The policy decides: switched off, the open red signal no longer blocks.
    await setPolicy(w, { blockReleaseOnRed: false });
    await ok(order(), 201);
    // Another bank's red signal naming the same pledge never blocks this bank.
    await setPolicy(w, { blockReleaseOnRed: true });
    await ok(call(app, 'POST', `/v1/signals/${aboutLine.id}/resolve`, { key: w.risk.key, body: { resolution: 'resolved', note: 'topped up' } }));
    const stranger = await financingWorld(app, f);
    await raise(stranger, { severity: 'red', rule: 'unauthorized_outbound', subjectType: 'pledge', subjectId: p.id });
    await ok(order(), 201);

    // A red signal on the supplier itself (no line named), or on its registry record, blocks its lines' releases too.
    const onSupplier = await raise(w, { severity: 'red', rule: 'repeated_refusals', subjectType: 'supplier', subjectId: w.supplier.organizationId });
    expect(expectProblem(await order(), 409, 'conflict').signalIds).toEqual([onSupplier.id]);
    await ok(call(app, 'POST', `/v1/signals/${onSupplier.id}/resolve`, { key: w.risk.key, body: { resolution: 'resolved', note: 'explained' } }));
    const onRegistry = await raise(w, { severity: 'red', rule: 'registry_dishonest_debtor_added', subjectType: 'enterprise', subjectId: `${w.supplier.creditCode}:3:X-1` });
    expect(expectProblem(await order(), 409, 'conflict').signalIds).toEqual([onRegistry.id]);
  });
});

describe('maker-checker on red (makerCheckerOnRed)', () => {
  it('the first officer proposes, the same officer cannot confirm, another resolution is refused, a second officer closes it', async () => {
    const w = await financingWorld(app, f);
    const checker = await f.actor('risk_officer', w.credit.organizationId);
    const stranger = await f.actor('risk_officer');
    await setPolicy(w, { makerCheckerOnRed: true });
    const red = await raise(w, { severity: 'red', rule: 'coverage_below_lines', creditLineId: w.line.id });
    const resolve = (key: string, resolution: string, note: string) => call(app, 'POST', `/v1/signals/${red.id}/resolve`, { key, body: { resolution, note } });

    const proposed = await resolve(w.risk.key, 'resolved', 'supplier topped up the collateral');
    expect(proposed.status).toBe(202);
    expect(proposed.body).toMatchObject({ id: red.id, status: 'open', awaitingSecondOfficer: true, statusChangedBy: null, proposal: { resolution: 'resolved', proposedBy: w.risk.userId, note: 'supplier topped up the collateral' } });
    expect(await ok(call(app, 'GET', `/v1/signals/${red.id}`, { key: w.credit.key }))).toEqual(proposed.body);
    expect((await auditOf(w.risk.key, 'signal', red.id)).map((a) => [a.action, a.actorUserId])).toEqual([['signal.resolution_proposed', w.risk.userId]]);

    const same = expectProblem(await resolve(w.risk.key, 'resolved', 'really'), 409, 'conflict');
    expect(same.detail).toMatch(/second risk officer/);
    const differs = expectProblem(await resolve(checker.key, 'false_positive', 'looks like noise'), 409, 'conflict');
    expect(differs.detail).toMatch(/proposal on this signal is resolved/);
    expect(differs.proposal).toMatchObject({ resolution: 'resolved', proposedBy: w.risk.userId });
    expectProblem(await resolve(stranger.key, 'resolved', 'not mine'), 404, 'not_found');
    expect((await ok(call(app, 'GET', `/v1/signals/${red.id}`, { key: w.risk.key }))).status).toBe('open');

    const closed = await ok(resolve(checker.key, 'resolved', 'checked the new warehouse receipt'));
    expect(closed).toMatchObject({ status: 'resolved', statusChangedBy: checker.userId, statusNote: 'checked the new warehouse receipt', awaitingSecondOfficer: false, proposal: { proposedBy: w.risk.userId } });
    const audit = await auditOf(w.risk.key, 'signal', red.id);
    expect(audit.map((a) => [a.action, a.actorUserId])).toEqual([
      ['signal.resolution_proposed', w.risk.userId],
      ['signal.resolved', checker.userId],
    ]);
    expect(audit[1]!.data).toMatchObject({ before: { status: 'open' }, after: { status: 'resolved' }, confirmedProposal: { resolution: 'resolved', proposedBy: w.risk.userId, note: 'supplier topped up the collateral' } });
    expectProblem(await resolve(checker.key, 'resolved', 'again'), 409, 'conflict');
  });

  it('switching the policy off afterwards does not let one officer close a red signal raised under it', async () => {
    const w = await financingWorld(app, f);
    const checker = await f.actor('risk_officer', w.credit.organizationId);
    await setPolicy(w, { makerCheckerOnRed: true });
    const red = await raise(w, { severity: 'red', rule: 'coverage_below_lines', creditLineId: w.line.id });
    await setPolicy(w, { makerCheckerOnRed: false });
    const resolve = (key: string) => call(app, 'POST', `/v1/signals/${red.id}/resolve`, { key, body: { resolution: 'resolved', note: 'fine now' } });
    expect((await resolve(w.risk.key)).status).toBe(202); // still a proposal
    expect((await ok(resolve(checker.key))).status).toBe('resolved');
  });

  it('new evidence withdraws a proposed resolution (audited); the same facts restated keep it', async () => {
    const w = await financingWorld(app, f);
    const checker = await f.actor('risk_officer', w.credit.organizationId);
    await setPolicy(w, { makerCheckerOnRed: true });
    const facts = { rule: 'stock_count_discrepancy', subjectType: 'pledge', subjectId: w.line.id, creditLineId: w.line.id, severity: 'red' as const };
    const red = await raise(w, { ...facts, evidence: { sensedQuantity: 80, businessDate: '2026-11-20' } });
    const resolve = (key: string) => call(app, 'POST', `/v1/signals/${red.id}/resolve`, { key, body: { resolution: 'false_positive', note: 'count was wrong' } });
    expect((await resolve(w.risk.key)).status).toBe(202);
    await raise(w, { ...facts, evidence: { sensedQuantity: 80, businessDate: '2026-11-21' } }); // the next night, same count
    expect((await ok(call(app, 'GET', `/v1/signals/${red.id}`, { key: w.risk.key }))).proposal).not.toBeNull();
    await raise(w, { ...facts, evidence: { sensedQuantity: 40, businessDate: '2026-11-22' } }); // a new shortfall
    expect((await ok(call(app, 'GET', `/v1/signals/${red.id}`, { key: w.risk.key }))).proposal).toBeNull();
    expect((await resolve(checker.key)).status).toBe(202); // the checker's call is now a new proposal, not a confirmation
    expect((await auditOf(w.risk.key, 'signal', red.id)).map((a) => a.action)).toEqual(['signal.resolution_proposed', 'signal.proposal_withdrawn', 'signal.resolution_proposed']);
  });

  it('a red signal on the supplier needs two officers when any program it stands against asks for it', async () => {
    const w = await financingWorld(app, f);
    const strictProgram = await financingWorld(app, f, { supplier: w.supplier });
    // Same bank? financingWorld makes a new bank each time; put the strict program's line under w's bank instead.
    expect(strictProgram.credit.organizationId).not.toBe(w.credit.organizationId);
    await setPolicy(w, { makerCheckerOnRed: true });
    const onSupplier = await raise(w, { severity: 'red', rule: 'repeated_refusals', subjectType: 'supplier', subjectId: w.supplier.organizationId });
    expect((await ok(call(app, 'GET', `/v1/signals/${onSupplier.id}`, { key: w.risk.key }))).makerChecker).toBe(true);
    // The other bank's program has no maker-checker: its own red signal on the same supplier closes in one step.
    const theirs = await raise(strictProgram, { severity: 'red', rule: 'repeated_refusals', subjectType: 'supplier', subjectId: w.supplier.organizationId });
    expect((await ok(call(app, 'POST', `/v1/signals/${theirs.id}/resolve`, { key: strictProgram.risk.key, body: { resolution: 'resolved', note: 'ok' } }))).status).toBe('resolved');
    expect((await call(app, 'POST', `/v1/signals/${onSupplier.id}/resolve`, { key: w.risk.key, body: { resolution: 'resolved', note: 'ok' } })).status).toBe(202);
  });

  it('a signal that turns red is announced as escalated: on the stream and to the webhook endpoints, once', async () => {
    const w = await financingWorld(app, f);
    await ok(call(app, 'POST', '/v1/webhook-endpoints', { key: w.risk.key, body: { url: 'https://bank.example/threeflow' } }), 201);
    const orange = await raise(w, { severity: 'orange', rule: 'coverage_below_lines', creditLineId: w.line.id });
    const notices: SignalNotice[] = [];
    const unsubscribe = feed.subscribe((n) => {
      if (n.id === orange.id && n.type === 'signal.escalated') notices.push(n);
    });
    try {
      expect((await raise(w, { severity: 'red', rule: 'coverage_below_lines', creditLineId: w.line.id })).id).toBe(orange.id);
      await raise(w, { severity: 'red', rule: 'coverage_below_lines', creditLineId: w.line.id }); // a repeat: no news
      for (let i = 0; i < 50 && !notices.length; i++) await new Promise((r) => setTimeout(r, 50));
      expect(notices).toHaveLength(1);
    } finally {
      unsubscribe();
    }
    const deliveries = await database.sql<{ event_type: string; severity: string }[]>`
      select d.event_type, d.payload->'data'->>'severity' as severity from webhook_deliveries d join webhook_endpoints e on e.id = d.endpoint_id
      where e.bank_organization_id = ${w.credit.organizationId} order by d.event_type`;
    expect(deliveries).toEqual([
      { event_type: 'signal.escalated', severity: 'red' },
      { event_type: 'signal.raised', severity: 'orange' },
    ]);
  });

  it('orange signals, and red ones of programs without the policy, close in one step', async () => {
    const w = await financingWorld(app, f);
    const plain = await financingWorld(app, f);
    await setPolicy(w, { makerCheckerOnRed: true });
    const orange = await raise(w, { severity: 'orange', rule: 'coverage_falling_fast', creditLineId: w.line.id });
    expect(await ok(call(app, 'POST', `/v1/signals/${orange.id}/resolve`, { key: w.risk.key, body: { resolution: 'false_positive', note: 'price feed glitch' } }))).toMatchObject({ status: 'false_positive', proposal: null });
    const red = await raise(plain, { severity: 'red', rule: 'coverage_below_lines', creditLineId: plain.line.id });
    const res = await call(app, 'POST', `/v1/signals/${red.id}/resolve`, { key: plain.risk.key, body: { resolution: 'resolved', note: 'repaid' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'resolved', statusChangedBy: plain.risk.userId, awaitingSecondOfficer: false, proposal: null });
  });
});

describe('assignee', () => {
  it("a risk officer assigns a signal to a risk officer of the signal's bank (audited, announced); anyone else is refused", async () => {
    const w = await financingWorld(app, f);
    const colleague = await f.actor('risk_officer', w.credit.organizationId);
    const stranger = await f.actor('risk_officer');
    const a = await raise(w, { severity: 'red', rule: 'coverage_below_lines' });
    const b = await raise(w, { severity: 'orange', rule: 'coverage_falling_fast' });
    const assign = (key: string, signalId: string, assigneeUserId: unknown) => call(app, 'POST', `/v1/signals/${signalId}/assign`, { key, body: { assigneeUserId } });

    const notices: SignalNotice[] = [];
    // Only updates: the notice of a's own raising may still be on its way when we subscribe.
    const unsubscribe = feed.subscribe((n) => {
      if (n.id === a.id && n.type === 'signal.updated') notices.push(n);
    });
    try {
      const assigned = await ok(assign(w.risk.key, a.id, colleague.userId));
      expect(assigned).toMatchObject({ id: a.id, assigneeUserId: colleague.userId, status: 'open' });
      for (let i = 0; i < 50 && !notices.length; i++) await new Promise((r) => setTimeout(r, 50));
      expect(notices).toEqual([{ id: a.id, bankOrganizationId: w.credit.organizationId, type: 'signal.updated' }]);
    } finally {
      unsubscribe();
    }
    expect((await auditOf(w.risk.key, 'signal', a.id)).map((x) => [x.action, x.actorUserId, x.data.after.assigneeUserId])).toEqual([['signal.assigned', w.risk.userId, colleague.userId]]);

    for (const [who, id] of [
      ['a risk officer of another bank', stranger.userId],
      ['a credit officer of the bank', w.credit.userId],
      ['nobody', randomUUID()],
    ] as const) {
      const problem = expectProblem(await assign(w.risk.key, b.id, id), 400, 'validation_failed');
      expect(problem.errors, who).toEqual([{ path: 'body/assigneeUserId', message: "must be an active risk officer of the signal's bank" }]);
    }
    expect(expectProblem(await assign(w.risk.key, b.id, 'bob'), 400, 'validation_failed').errors.map((e: { path: string }) => e.path)).toEqual(['body/assigneeUserId']);
    expectProblem(await assign(w.credit.key, b.id, colleague.userId), 403, 'forbidden');
    expectProblem(await assign(w.admin.key, b.id, colleague.userId), 403, 'forbidden');
    expectProblem(await assign(stranger.key, b.id, stranger.userId), 404, 'not_found');
    expect((await ok(call(app, 'GET', `/v1/signals/${b.id}`, { key: w.risk.key }))).assigneeUserId).toBeNull();

    // Officers see what is theirs.
    expect(ids(await ok(call(app, 'GET', `/v1/signals?assigneeUserId=${colleague.userId}`, { key: w.risk.key })))).toEqual([a.id]);
    expect(ids(await ok(call(app, 'GET', `/v1/signals?assigneeUserId=${w.risk.userId}`, { key: w.risk.key })))).toEqual([]);
    // The colleague hands it back: unassigned.
    expect((await ok(assign(colleague.key, a.id, null))).assigneeUserId).toBeNull();
    expect(ids(await ok(call(app, 'GET', `/v1/signals?assigneeUserId=${colleague.userId}`, { key: w.risk.key })))).toEqual([]);
    // A closed signal is not assigned any more.
    await ok(call(app, 'POST', `/v1/signals/${b.id}/resolve`, { key: w.risk.key, body: { resolution: 'resolved', note: 'done' } }));
    expectProblem(await assign(w.risk.key, b.id, colleague.userId), 409, 'conflict');
  });
});

describe('auto-approval and red signals', () => {
  it('a request within the threshold waits for a person while a red signal is open on the line, and says why', async () => {
    const w = await financingWorld(app, f, { autoApprovalThresholdFen: 100_000_000 });
    const submit = async () => {
      const invoice = await confirmedInvoice(app, w, 100_000);
      const quote = await ok(call(app, 'POST', '/v1/financing-requests', { key: w.supplier.key, body: { creditLineId: w.line.id, invoiceIds: [invoice.id] } }), 201);
      return ok(call(app, 'POST', `/v1/financing-requests/${quote.id}/submit`, { key: w.supplier.key }));
    };
    const before = await submit();
    expect(before).toMatchObject({ status: 'approved', decidedBy: 'system:auto-approval' });

    const red = await raise(w, { severity: 'red', rule: 'coverage_below_lines', creditLineId: w.line.id });
    await raise(w, { severity: 'orange', rule: 'coverage_falling_fast', creditLineId: w.line.id }); // orange does not count
    const held = await submit();
    expect(held).toMatchObject({ status: 'submitted', decidedBy: null });
    expect(held.decisionReason).toContain('red signal');
    expect(held.decisionReason).toContain(red.id);
    const row = (await auditOf(w.credit.key, 'financing_request', held.id)).find((a) => a.action.startsWith('financing.submitted'));
    expect(row).toMatchObject({ action: 'financing.submitted', data: { after: { status: 'submitted' }, autoApprovalWithheld: { reason: 'open_red_signals', signalIds: [red.id] } } });
    // A credit officer can still approve it.
    expect((await ok(call(app, 'POST', `/v1/financing-requests/${held.id}/approve`, { key: w.credit.key, body: {} }))).status).toBe('approved');

    // Acknowledged still holds; resolved lifts it.
    await ok(call(app, 'POST', `/v1/signals/${red.id}/acknowledge`, { key: w.risk.key, body: { note: 'looking' } }));
    expect((await submit()).status).toBe('submitted');
    await ok(call(app, 'POST', `/v1/signals/${red.id}/resolve`, { key: w.risk.key, body: { resolution: 'resolved', note: 'collateral topped up' } }));
    expect(await submit()).toMatchObject({ status: 'approved', decidedBy: 'system:auto-approval' });

    // A red signal about the line itself (no credit line column) holds too.
    await raise(w, { severity: 'red', rule: 'coverage_below_liquidation', subjectType: 'credit_line', subjectId: w.line.id });
    expect((await submit()).status).toBe('submitted');
  });
});

describe('GET /v1/signals and /v1/signals/{id}', () => {
  it('filters, pages and keeps each bank to its own signals', async () => {
    const w = await collateralWorld(app, f);
    const other = await financingWorld(app, f);
    const pledgeId = randomUUID();
    const minutesAgo = (m: number) => new Date(clock.now().getTime() - m * 60_000);
    const s1 = await raise(w, { severity: 'red', rule: 'coverage_below_lines', creditLineId: w.line.id, businessDate: '2026-11-20' }, minutesAgo(3));
    const s2 = await raise(w, { severity: 'orange', rule: 'device_offline', subjectType: 'pledge', subjectId: pledgeId, businessDate: '2026-11-21' }, minutesAgo(2));
    const s3 = await raise(w, { severity: 'yellow', rule: 'coverage_near_breach', businessDate: '2026-11-21' }, minutesAgo(1));
    const theirs = await raise(other, { severity: 'red', rule: 'device_offline', subjectType: 'pledge', subjectId: pledgeId });
    await ok(call(app, 'POST', `/v1/signals/${s2.id}/acknowledge`, { key: w.risk.key, body: { note: 'on it' } }));

    const list = (key: string, query = '') => ok(call(app, 'GET', `/v1/signals${query}`, { key }));
    expect(ids(await list(w.risk.key))).toEqual([s1.id, s2.id, s3.id]);
    expect(ids(await list(w.credit.key, '?severity=red'))).toEqual([s1.id]);
    expect(ids(await list(w.risk.key, '?status=acknowledged'))).toEqual([s2.id]);
    expect(ids(await list(w.risk.key, '?status=open&businessDate=2026-11-21'))).toEqual([s3.id]);
    expect(ids(await list(w.risk.key, '?rule=device_offline'))).toEqual([s2.id]);
    expect(ids(await list(w.risk.key, `?subjectType=pledge&subjectId=${pledgeId}`))).toEqual([s2.id]);
    expect(ids(await list(w.risk.key, '?subjectType=credit_line'))).toEqual([s1.id, s3.id]);
    expect(ids(await list(w.risk.key, `?creditLineId=${w.line.id}`))).toEqual([s1.id]);
    expect(ids(await list(w.risk.key, '?severity=yellow&status=resolved'))).toEqual([]);
    // Another bank sees only its own, even asking for this subject; the platform sees both.
    expect(ids(await list(other.risk.key))).toEqual([theirs.id]);
    expect(ids(await list(other.risk.key, `?subjectId=${pledgeId}`))).toEqual([theirs.id]);
    expect(ids(await list(other.risk.key, `?creditLineId=${w.line.id}`))).toEqual([]);
    expect(new Set(ids(await list(w.admin.key, `?subjectId=${pledgeId}`)))).toEqual(new Set([s2.id, theirs.id]));

    // Pages follow first sighting, with the filter kept.
    const page1 = await list(w.risk.key, '?subjectType=credit_line&limit=1');
    expect(ids(page1)).toEqual([s1.id]);
    const page2 = await list(w.risk.key, `?subjectType=credit_line&limit=1&cursor=${page1.nextCursor}`);
    expect(ids(page2)).toEqual([s3.id]);
    expect(page2.nextCursor).toBeNull();

    // One view everywhere.
    const one = await ok(call(app, 'GET', `/v1/signals/${s1.id}`, { key: w.credit.key }));
    expect(one).toEqual((await list(w.risk.key, '?severity=red')).items[0]);
    expect(one).toMatchObject({
      id: s1.id,
      rule: 'coverage_below_lines',
      severity: 'red',
      status: 'open',
      subjectType: 'credit_line',
      subjectId: w.line.id,
      bankOrganizationId: w.credit.organizationId,
      businessDate: '2026-11-20',
      programId: w.program.id,
      creditLineId: w.line.id,
      linkedSignalId: null,
      assigneeUserId: null,
      evidence: { test: true },
      occurrences: 1,
      statusNote: null,
      statusChangedBy: null,
      statusChangedAt: null,
      proposal: null,
      awaitingSecondOfficer: false,
      actions: [],
    });
    expect(await ok(call(app, 'GET', `/v1/signals/${s2.id}`, { key: w.risk.key }))).toMatchObject({ status: 'acknowledged', statusNote: 'on it', statusChangedBy: w.risk.userId });
    expect((await ok(call(app, 'GET', `/v1/signals/${theirs.id}`, { key: w.admin.key }))).bankOrganizationId).toBe(other.credit.organizationId);

    expectProblem(await call(app, 'GET', `/v1/signals/${s1.id}`, { key: other.risk.key }), 404, 'not_found');
    expectProblem(await call(app, 'GET', `/v1/signals/${randomUUID()}`, { key: w.risk.key }), 404, 'not_found');
    expectProblem(await call(app, 'GET', `/v1/signals/${s1.id}`, { key: w.supplier.key }), 403, 'forbidden');
    expectProblem(await call(app, 'GET', '/v1/signals', { key: w.operator.key }), 403, 'forbidden');
    expectProblem(await call(app, 'GET', `/v1/signals/${s1.id}`), 401, 'unauthenticated');
    const bad = expectProblem(await call(app, 'GET', '/v1/signals?severity=purple&businessDate=yesterday&assigneeUserId=bob&creditLineId=x&status=closed', { key: w.risk.key }), 400, 'validation_failed');
    expect(bad.errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['query/severity', 'query/businessDate', 'query/assigneeUserId', 'query/creditLineId', 'query/status']));
    expect(expectProblem(await call(app, 'GET', '/v1/signals/not-a-uuid', { key: w.risk.key }), 400, 'validation_failed').errors.map((e: { path: string }) => e.path)).toEqual(['path/signalId']);
  });
});
