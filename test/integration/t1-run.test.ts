import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { financingEvents, registryChangeEvents } from '../../src/db/schema';
import { createMetrics } from '../../src/http/metrics';
import { enqueueWarningRun, startWarningJobs, warningsQueue } from '../../src/jobs/warnings';
import { addDays, businessDate, fixedClock } from '../../src/lib/clock';
import { checkSkippedNights, dayWindow, evaluateChunk, startWarningRun } from '../../src/modules/warnings/t1-run';
import { subjectsOfDay } from '../../src/modules/warnings/t1-subjects';
import { seedBook } from '../../simulators/t1-book';
import { call, factories, ownDatabase, services, silentLog, testApp } from '../support/harness';
import { collateralWorld, pledge, uniqCode } from '../support/collateral';
import { confirmedInvoice, financeThrough, ok } from '../support/financing';
import { startMain, waitForOutput } from '../support/process';
import { testServices } from '../support/services';

/*
 * The T+1 run judges the whole book, so this file has a database of its own: what other
 * files create at the same time neither shows up here nor receives this run's signals.
 * Business day T is tomorrow in Shanghai, so everything the API creates now exists before T.
 */
const TZ = 'Asia/Shanghai';
const T = addDays(businessDate(new Date(), TZ), 1);
const day = dayWindow(T, TZ);
const at = (msFromStartOfT: number) => new Date(day.from.getTime() + msFromStartOfT);
const HOUR = 3_600_000;
/** 02:00 on T+1: when the nightly run for T starts (T is over). */
const nightAfterT = () => fixedClock(new Date(day.to.getTime() + 2 * HOUR));

let databaseUrl: string;
beforeAll(async () => {
  databaseUrl = await ownDatabase();
});

const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
});

type Db = Awaited<ReturnType<typeof services>>['database'];

/** A day with known problems, each planted through the API or as ingestion and the ledger would store it. */
async function seedProblems() {
  const { app, database } = await testApp();
  const f = await factories();
  // Prices stay fresh to the end of T (96 h), the SKU is ¥200/kg with a 30% haircut.
  const w = await collateralWorld(app, f, { priceEffectiveAt: new Date(Date.now() - HOUR).toISOString(), terms: { priceMaxAgeHours: 96 } });
  const inv1 = await confirmedInvoice(app, w, 1_000_000, addDays(T, 60));
  await financeThrough(app, w, [inv1.id]); // 800,000 fen
  const inv2 = await confirmedInvoice(app, w, 500_000, addDays(T, 60));
  const overdueRequest = await financeThrough(app, w, [inv2.id]); // 400,000 fen: outstanding 1,200,000
  // The second financing matured 13 days before T (grace 3): overdue by the end of T.
  await database.sql`update financing_requests set maturity_date = ${addDays(T, -13)}, status = 'overdue' where id = ${overdueRequest.id}`;

  // 200 kg in before T: 200 × ¥200 × 70% = ¥28,000 against ¥12,000 (233%).
  const lot = uniqCode('LOT');
  const pledged = await ok(pledge(app, w, [{ lotCode: lot, skuCode: w.sku.code, quantity: 200 }]), 201);
  // Pledging goods another bank holds is refused (权属不清) and remembered as an attempt; re-sending
  // the bank's own pledge is refused too but is no attempt by the supplier.
  const otherBank = await collateralWorld(app, f, { operator: w.operator, warehouse: w.warehouse });
  const theirLot = uniqCode('LOT');
  await ok(pledge(app, otherBank, [{ lotCode: theirLot, skuCode: otherBank.sku.code, quantity: 5 }]), 201);
  expect((await pledge(app, w, [{ lotCode: theirLot, skuCode: w.sku.code, quantity: 5 }])).status).toBe(409);
  expect((await pledge(app, w, [{ lotCode: lot, skuCode: w.sku.code, quantity: 5 }])).status).toBe(409);

  const gate = randomUUID();
  const quietGate = randomUUID();
  for (const id of [gate, quietGate]) {
    await database.sql`insert into devices (id, warehouse_id, warehouse_organization_id, kind, name, secret_ciphertext, broker_password_hash, heartbeat_interval_seconds, created_at)
      values (${id}, ${w.warehouse.id}, ${w.operator.organizationId}, 'rfid_gate', ${`gate ${id.slice(0, 4)}`}, 'x', 'x', 300, now())`;
  }
  let seq = 0;
  const event = async (device: string, kind: string, received: Date, body: object, move?: { quantity: number; unauthorized?: boolean }) => {
    await database.sql`insert into telemetry_events (device_id, seq, kind, warehouse_id, device_ts, received_at, body_hash, body, lot_code, sku_code, signed_quantity, unauthorized_pledge_id)
      values (${device}, ${++seq}, ${kind}, ${w.warehouse.id}, ${received.toISOString()}, ${received.toISOString()}, ${randomBytes(8).toString('hex')}, ${JSON.stringify(body)}::jsonb,
              ${move ? lot : null}, ${move ? w.sku.code : null}, ${move?.quantity ?? null}, ${move?.unauthorized ? pledged.id : null})`;
  };
  await event(quietGate, 'movement', at(-HOUR), {}, { quantity: 200 }); // 23:00 on T−1
  // 23:59 on T: 120 kg leave with no release order; 00:01 on T+1: another 10 kg (tomorrow's business).
  await event(quietGate, 'movement', at(24 * HOUR - 60_000), {}, { quantity: -120, unauthorized: true });
  await event(quietGate, 'movement', at(24 * HOUR + 60_000), {}, { quantity: -10, unauthorized: true });
  await event(quietGate, 'count', at(20 * HOUR), { zone: 'A1', counts: [{ lotCode: lot, quantity: 80 }] });
  await event(quietGate, 'heartbeat', at(23.5 * HOUR), {}); // this gate speaks; `gate` stays silent all of T

  // The core enterprise owes ¥30,000 that fell due 22 days before T: 2/3 of its open payables.
  await ok(call(app, 'POST', '/v1/ledger/entries', { key: w.core.key, body: { entries: [{ entryId: `AP-LATE-${randomBytes(3).toString('hex')}`, supplierCreditCode: w.supplier.creditCode, invoiceNumber: '99999999', amountFen: 3_000_000, dueDate: addDays(T, -22), status: 'open' }] } }));

  await database.db.insert(registryChangeEvents).values([
    { creditCode: w.supplier.creditCode, type: 'legal_representative_changed', severity: 'orange', itemKey: '', before: '张三', after: '李四', detail: null, fromVersion: 1, toVersion: 2, detectedAt: at(24 * HOUR - 60_000) },
    // A chattel mortgage by a supplier whose goods this bank holds: a double pledge, red here.
    { creditCode: w.supplier.creditCode, type: 'chattel_mortgage_added', severity: 'orange', itemKey: 'DY-2026-01', before: null, after: { registrationNumber: 'DY-2026-01' }, detail: null, fromVersion: 1, toVersion: 2, detectedAt: at(10 * HOUR) },
    { creditCode: w.supplier.creditCode, type: 'dishonest_debtor_added', severity: 'red', itemKey: 'X-1', before: null, after: { caseNumber: 'X-1' }, detail: null, fromVersion: 2, toVersion: 3, detectedAt: at(24 * HOUR + 60_000) },
  ]);
  const eventRow = (type: string, subjectId: string, occurredAt: Date) => ({ type, bankOrganizationId: w.credit.organizationId, supplierOrganizationId: w.supplier.organizationId, subjectType: 'invoice', subjectId, data: { creditLineId: w.line.id }, dedupeKey: `t1:${randomBytes(6).toString('hex')}`, occurredAt });
  await database.db.insert(financingEvents).values([
    eventRow('financed_invoice_disputed', inv1.id, at(2 * HOUR)),
    eventRow('duplicate_financing_refused', inv1.id, at(3 * HOUR)),
    eventRow('duplicate_financing_refused', inv1.id, at(4 * HOUR)),
  ]);

  // The supplier's registry data was fetched at 01:00 on T+1 (fresh); the core enterprise's never was (stale).
  await database.sql`insert into registry_fetch_status (provider, credit_code, last_attempt_at, last_success_at) values ('sim', ${w.supplier.creditCode}, ${at(25 * HOUR).toISOString()}, ${at(25 * HOUR).toISOString()})`;
  // The program's own choices: a change of legal representative is red here, and red signals freeze the line.
  await ok(call(app, 'PUT', `/v1/programs/${w.program.id}/warning-rules/registry_change`, { key: w.risk.key, body: { enabled: true, params: { severities: { legal_representative_changed: 'red' } } } }));
  await ok(call(app, 'PUT', `/v1/programs/${w.program.id}/warning-policy`, { key: w.risk.key, body: { freezeLineOnRed: true, blockReleaseOnRed: false, makerCheckerOnRed: false } }));
  return { app, w, database, pledgeId: pledged.id, inv1, inv2, gate };
}

async function bankSignals(database: Db, bank: string) {
  return database.sql<{ id: string; rule: string; severity: string; subject_type: string; subject_id: string; occurrences: number; evidence: Record<string, unknown>; linked_signal_id: string | null; business_date: string; actions: { action: string }[] }[]>`
    select id, rule, severity, subject_type, subject_id, occurrences, evidence, linked_signal_id, business_date, actions from signals where bank_organization_id = ${bank} order by rule, subject_id`;
}

async function runInProcess(database: Db, clock: ReturnType<typeof fixedClock>, between?: () => Promise<void>, businessDate = T) {
  const { run, chunks } = await startWarningRun(database.db, clock, { businessDate, trigger: 'cli', timeZone: TZ });
  await between?.();
  for (const c of chunks) await evaluateChunk(database.db, clock, { runId: run.id, businessDate, timeZone: TZ, chunkIndex: c.index, kind: c.kind, ids: c.ids });
  const [done] = await database.sql<{ status: string; chunks_done: number; chunks_total: number; subjects_evaluated: number; chunks_failed: number }[]>`select status, chunks_done, chunks_total, subjects_evaluated, chunks_failed from warning_runs where id = ${run.id}`;
  return { ...done!, subjects: chunks.reduce((n, c) => n + c.ids.length, 0) };
}

describe('the T+1 run for business day T', () => {
  it('raises exactly the expected signals, follows the program settings it started with, and a re-run adds nothing', async () => {
    const { app, w, database, pledgeId, inv1, inv2, gate } = await seedProblems();
    const clock = nightAfterT();

    // A setting changed after the run started applies from the next run, not this one.
    const first = await runInProcess(database, clock, async () => {
      await ok(call(app, 'PUT', `/v1/programs/${w.program.id}/warning-rules/coverage_falling_fast`, { key: w.risk.key, body: { enabled: false, params: {} } }));
    });
    expect(first).toMatchObject({ status: 'succeeded', chunks_failed: 0 });
    expect(first.chunks_done).toBe(first.chunks_total);
    expect(first.subjects_evaluated).toBe(first.subjects);

    const signals = await bankSignals(database, w.credit.organizationId);
    expect(signals.map((s) => `${s.rule}|${s.subject_type}|${s.severity}`)).toEqual([
      'core_enterprise_late_linked|credit_line|red',
      'core_enterprise_paying_late|core_enterprise|red',
      'coverage_below_lines|credit_line|red',
      'coverage_falling_fast|credit_line|orange',
      'device_offline|pledge|red',
      'financed_invoice_cancelled_or_disputed|invoice|red',
      'financed_invoice_overdue|invoice|orange',
      'registry_chattel_mortgage_added|enterprise|red',
      'registry_data_stale|enterprise|orange',
      'registry_legal_representative_changed|enterprise|red',
      'repeated_refusals|supplier|orange',
      'stock_count_discrepancy|pledge|red',
      'unauthorized_outbound|pledge|red',
    ]);
    const by = (rule: string) => signals.find((s) => s.rule === rule)!;
    expect(signals.every((s) => s.business_date === T)).toBe(true);
    // The evidence carries the figures: 80 kg left × ¥200 × 70% = ¥11,200 against ¥12,000.
    expect(by('coverage_below_lines').evidence).toMatchObject({ coverageBp: 9_333, line: 'liquidation', collateralValueFen: '1120000', outstandingFen: '1200000' });
    expect(by('coverage_falling_fast').evidence).toMatchObject({ coverageBp: 9_333, previousCoverageBp: 23_333 });
    // 23:59 counts on T, 00:01 belongs to T+1.
    expect(by('unauthorized_outbound')).toMatchObject({ subject_id: pledgeId, evidence: { unauthorizedOutbounds: 1, quantity: 120 } });
    expect(by('stock_count_discrepancy').evidence).toMatchObject({ bookedQuantity: 200, sensedQuantity: 80 });
    expect(by('device_offline').evidence).toMatchObject({ deviceId: gate });
    expect(by('financed_invoice_overdue')).toMatchObject({ subject_id: inv2.id, evidence: { daysPastDue: 13, graceDays: 3 } });
    expect(by('financed_invoice_cancelled_or_disputed').subject_id).toBe(inv1.id);
    expect(by('core_enterprise_paying_late')).toMatchObject({ subject_id: w.core.organizationId, evidence: { worstDaysPastDue: 22, overdueShareBp: 6_666 } });
    // 1+N: the supplier's line carries its core enterprise's signal, linked to it.
    expect(by('core_enterprise_late_linked')).toMatchObject({ subject_id: w.line.id, linked_signal_id: by('core_enterprise_paying_late').id });
    expect(by('repeated_refusals').evidence).toMatchObject({ refusedAttempts: 3, duplicateFinancing: 2, doublePledge: 1 });
    expect(signals.some((s) => s.rule.includes('dishonest'))).toBe(false);
    expect(by('registry_chattel_mortgage_added').evidence).toMatchObject({ detail: { activePledgesWithThisBank: 1 } });
    expect(by('registry_data_stale')).toMatchObject({ subject_id: w.core.creditCode, evidence: { daysSinceSuccess: null } });

    // The evidence links to the objects: the signal names its line, coverage and program, and the links answer.
    const view = await ok(call(app, 'GET', `/v1/signals/${by('core_enterprise_late_linked').id}`, { key: w.risk.key }));
    expect(view.links).toEqual({
      subject: `/v1/credit-lines/${w.line.id}`,
      creditLine: `/v1/credit-lines/${w.line.id}`,
      coverage: `/v1/credit-lines/${w.line.id}/coverage`,
      program: `/v1/programs/${w.program.id}`,
      linkedSignal: `/v1/signals/${by('core_enterprise_paying_late').id}`,
    });
    for (const link of Object.values(view.links as Record<string, string>)) expect((await call(app, 'GET', link, { key: w.risk.key })).status, link).toBe(200);

    // The program's policy: a red signal froze the line (once), and the signal that did says so.
    expect((await ok(call(app, 'GET', `/v1/credit-lines/${w.line.id}`, { key: w.credit.key }))).status).toBe('frozen');
    expect(signals.filter((s) => s.actions.some((a) => a.action === 'credit_line_frozen'))).toHaveLength(1);
    expect(await database.sql`select 1 from audit_events where subject_type = 'credit_line' and subject_id = ${w.line.id} and action = 'credit_line.frozen' and actor_type = 'system:warnings'`).toHaveLength(1);

    // Re-run: the same signals, refreshed; falling-fast is off from this run on, so it is left as it was.
    const again = await runInProcess(database, clock);
    expect(again.status).toBe('succeeded');
    const after = await bankSignals(database, w.credit.organizationId);
    expect(after.map((s) => s.id)).toEqual(signals.map((s) => s.id));
    expect(after.filter((s) => s.rule !== 'coverage_falling_fast').every((s) => s.occurrences === 2)).toBe(true);
    expect(after.find((s) => s.rule === 'coverage_falling_fast')!.occurrences).toBe(1);
  });

  it('a business day without a successful run is a red signal to every bank, closed when the day is re-run', async () => {
    const { database } = await services();
    const f = await factories();
    const bank = await f.actor('risk_officer');
    const clock = fixedClock(new Date(day.to.getTime() + 8 * HOUR));
    const gap = addDays(T, -2);
    // Runs succeeded for T−3, T−1 and T, each at 02:00 the next day; nothing ran for T−2 but a run
    // started during T−2 itself (it cannot have seen the whole day) and one stuck since T−2's night.
    const afterDay = (d: string) => new Date(dayWindow(d, TZ).to.getTime() + 2 * HOUR).toISOString();
    for (const d of [addDays(T, -3), addDays(T, -1), T]) {
      await database.sql`insert into warning_runs (business_date, trigger, status, started_at, finished_at) values (${d}, 'schedule', 'succeeded', ${afterDay(d)}, ${afterDay(d)})`;
    }
    await database.sql`insert into warning_runs (business_date, trigger, status, started_at, finished_at) values (${gap}, 'api', 'succeeded', ${dayWindow(gap, TZ).from.toISOString()}, ${dayWindow(gap, TZ).from.toISOString()})`;
    await database.sql`insert into warning_runs (business_date, trigger, status, started_at) values (${gap}, 'schedule', 'running', ${afterDay(gap)})`;
    expect(await checkSkippedNights(database.db, clock, { lastDay: T, timeZone: TZ })).toEqual([gap]);
    const raised = await database.sql<{ severity: string; status: string }[]>`select severity, status from signals where rule = 'warning_run_skipped' and subject_id = ${gap} and bank_organization_id = ${bank.organizationId}`;
    expect(raised).toEqual([{ severity: 'red', status: 'open' }]);
    expect(await checkSkippedNights(database.db, clock, { lastDay: T, timeZone: TZ })).toEqual([gap]); // still a gap; still one signal
    expect(await database.sql`select 1 from signals where rule = 'warning_run_skipped' and subject_id = ${gap} and bank_organization_id = ${bank.organizationId}`).toHaveLength(1);
    // A run still going (started an hour ago) is not a gap yet.
    expect(await checkSkippedNights(database.db, fixedClock(new Date(dayWindow(gap, TZ).to.getTime() + 3 * HOUR)), { lastDay: gap, timeZone: TZ })).toEqual([]);
    const [banks] = await database.sql<{ banks: number; signalled: number }[]>`
      select (select count(*)::int from organizations where kind = 'bank') as banks,
             (select count(*)::int from signals where rule = 'warning_run_skipped' and subject_id = ${gap} and status = 'open') as signalled`;
    expect(banks!.signalled).toBe(banks!.banks);
    // Backfilled: the gap is gone and its signals are closed by the platform.
    expect((await runInProcess(database, clock, undefined, gap)).status).toBe('succeeded');
    expect(await checkSkippedNights(database.db, clock, { lastDay: T, timeZone: TZ })).toEqual([]);
    expect(await database.sql`select status, status_changed_by from signals where rule = 'warning_run_skipped' and subject_id = ${gap} and bank_organization_id = ${bank.organizationId}`).toEqual([{ status: 'resolved', status_changed_by: 'system:warnings' }]);
  });

  it('a worker killed in the middle of a run: another one finishes it, every chunk counted once, no signal twice', async () => {
    const { database } = await services();
    const book = await seedBook(database.sql, { suppliers: 1_500, pledgesPerSupplier: 2, movements: 20_000, warehouses: 200 }, { businessDate: T, timeZone: TZ });
    const prefix = `${inject('queuePrefix')}_t1kill`;
    const producerRedis = new Redis(testServices().redisUrl, { maxRetriesPerRequest: 1 });
    const queue = warningsQueue(producerRedis, prefix);
    closers.push(async () => {
      await queue.close();
      const keys = await producerRedis.keys(`${prefix}:*`);
      if (keys.length) await producerRedis.del(...keys);
      producerRedis.disconnect();
    });
    const workerEnv = { DATABASE_URL: databaseUrl, REDIS_URL: testServices().redisUrl, QUEUE_PREFIX: prefix };
    const first = startMain(workerEnv, 'test/support/t1-worker.ts');
    await waitForOutput(first, /ready/);

    const expected = Object.values(await subjectsOfDay(database.db, day)).reduce((n, ids) => n + ids.length, 0);
    const run = await enqueueWarningRun(queue, { db: database.db, clock: nightAfterT(), timeZone: TZ }, { businessDate: T, trigger: 'api' });
    const progress = async () => (await database.sql<{ status: string; chunks_done: number; chunks_total: number; subjects_evaluated: number; chunks_failed: number }[]>`select status, chunks_done, chunks_total, subjects_evaluated, chunks_failed from warning_runs where id = ${run.id}`)[0]!;
    for (let i = 0; i < 600 && (await progress()).chunks_done < 3; i++) await new Promise((r) => setTimeout(r, 50));
    first.child.kill('SIGKILL');
    await first.exited;
    const atKill = await progress();
    expect(atKill.status).toBe('running'); // killed mid-run, not after
    expect(atKill.chunks_done).toBeLessThan(atKill.chunks_total);

    const second = startMain(workerEnv, 'test/support/t1-worker.ts');
    closers.push(async () => {
      second.child.kill('SIGTERM');
      await second.exited;
    });
    await waitForOutput(second, /ready/);
    let done = await progress();
    for (let i = 0; i < 1_200 && done.status === 'running'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      done = await progress();
    }
    expect(done).toMatchObject({ status: 'succeeded', chunks_failed: 0 });
    expect(done.chunks_done).toBe(done.chunks_total);
    expect(done.subjects_evaluated).toBe(expected);
    expect(await database.sql`select 1 from warning_run_chunks where run_id = ${run.id}`).toHaveLength(done.chunks_total);

    // The book's planted problems, each exactly once.
    const counts = await database.sql<{ rule: string; n: number }[]>`select rule, count(*)::int as n from signals where bank_organization_id = ${book.bankOrganizationId} group by rule order by rule`;
    const [silent] = await database.sql<{ n: number }[]>`
      select count(*)::int as n from pledges p where p.bank_organization_id = ${book.bankOrganizationId}
        and not exists (select 1 from telemetry_events t join devices d on d.id = t.device_id where d.warehouse_id = p.warehouse_id and t.kind = 'heartbeat')`;
    expect(silent!.n).toBeGreaterThan(0);
    expect(await database.sql`select 1 from signals where bank_organization_id = ${book.bankOrganizationId} and occurrences <> 1`).toHaveLength(0); // no chunk raised twice
    expect(counts).toEqual(
      [
        { rule: 'coverage_below_lines', n: book.breachedLines },
        { rule: 'coverage_falling_fast', n: book.breachedLines },
        { rule: 'device_offline', n: silent!.n },
        { rule: 'unauthorized_outbound', n: book.breachedLines * 2 },
      ].sort((a, b) => a.rule.localeCompare(b.rule)),
    );
  }, 120_000);

  it('runs through BullMQ on demand by API, progress visible while it runs', async () => {
    const { database } = await services();
    const prefix = `${inject('queuePrefix')}_t1api`;
    const workerRedis = new Redis(testServices().redisUrl, { maxRetriesPerRequest: null });
    const producerRedis = new Redis(testServices().redisUrl, { maxRetriesPerRequest: 1 });
    const jobs = await startWarningJobs({ db: database.db, clock: nightAfterT(), log: silentLog, metrics: createMetrics({ defaultMetrics: false }), workerRedis, producerRedis, prefix, timeZone: TZ, cron: '0 2 * * *' });
    const queue = warningsQueue(producerRedis, prefix);
    closers.push(async () => {
      await jobs.close();
      await queue.close();
      const keys = await producerRedis.keys(`${prefix}:*`);
      if (keys.length) await producerRedis.del(...keys);
      workerRedis.disconnect();
      producerRedis.disconnect();
    });
    const { app } = await testApp({ startWarningRun: (businessDate) => enqueueWarningRun(queue, { db: database.db, clock: nightAfterT(), timeZone: TZ }, { businessDate, trigger: 'api' }) });
    const f = await factories();
    const risk = await f.actor('risk_officer');
    const supplier = await f.actor('supplier_user');
    expect((await call(app, 'POST', '/v1/warning-runs', { key: supplier.key, body: { businessDate: T } })).status).toBe(403);
    expect((await call(app, 'POST', '/v1/warning-runs', { key: risk.key, body: { businessDate: '2026-13-01' } })).status).toBe(400);
    // A day that has not begun has nothing to judge.
    const future = await call(app, 'POST', '/v1/warning-runs', { key: risk.key, body: { businessDate: addDays(T, 2) } });
    expect(future.status).toBe(400);
    expect(future.body.errors).toEqual([{ path: 'body/businessDate', message: expect.stringContaining('must not be after') }]);
    const run = await ok(call(app, 'POST', '/v1/warning-runs', { key: risk.key, body: { businessDate: T } }), 202);
    expect(run).toMatchObject({ businessDate: T, trigger: 'api' });
    for (let i = 0; i < 600; i++) {
      const r = await ok(call(app, 'GET', `/v1/warning-runs/${run.id}`, { key: risk.key }));
      expect(r.chunksDone).toBeLessThanOrEqual(r.chunksTotal);
      if (r.status === 'succeeded') {
        expect(r.chunksDone).toBe(r.chunksTotal);
        expect(r.durationMs).toBeGreaterThanOrEqual(0);
        const listed = await ok(call(app, 'GET', `/v1/warning-runs?businessDate=${T}&status=succeeded&limit=200`, { key: risk.key }));
        expect(listed.items.map((x: { id: string }) => x.id)).toContain(run.id);
        expect(listed.items.every((x: { businessDate: string; status: string }) => x.businessDate === T && x.status === 'succeeded')).toBe(true);
        expect((await call(app, 'GET', '/v1/warning-runs', { key: supplier.key })).status).toBe(403);
        return;
      }
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error('run did not finish');
  }, 90_000);
});
