import { beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/lib/clock';
import { call, expectProblem, factories, randomCreditCode, services, testApp } from '../support/harness';
import { confirmedInvoice, financingWorld, ok, uniqDigits, type World } from '../support/financing';

const clock = fixedClock('2026-11-22T02:00:00Z');
let app: Awaited<ReturnType<typeof testApp>>['app'];
let f: Awaited<ReturnType<typeof factories>>;
let w: World; // the tenant under test
let other: World; // another bank, core enterprise and supplier
let ids: { programId: string; lineId: string; invoiceId: string; requestId: string; entryId: string; journalEntryId: string };

beforeAll(async () => {
  ({ app } = await testApp({ clock }));
  f = await factories();
  w = await financingWorld(app, f);
  other = await financingWorld(app, f);
  const inv = await confirmedInvoice(app, w, 1_000_000);
  const q = await ok(call(app, 'POST', '/v1/financing-requests', { key: w.supplier.key, body: { creditLineId: w.line.id, invoiceIds: [inv.id] } }), 201);
  await ok(call(app, 'POST', `/v1/financing-requests/${q.id}/submit`, { key: w.supplier.key }));
  await ok(call(app, 'POST', `/v1/financing-requests/${q.id}/approve`, { key: w.credit.key, body: {} }));
  await ok(call(app, 'POST', `/v1/financing-requests/${q.id}/disburse`, { key: w.credit.key, body: { reference: 'D-1' } }));
  const journal = await ok(call(app, 'GET', `/v1/credit-lines/${w.line.id}/journal`, { key: w.credit.key }));
  ids = { programId: w.program.id, lineId: w.line.id, invoiceId: inv.id, requestId: q.id, entryId: inv.entryId, journalEntryId: journal.items[0].id };
});

describe("another tenant's financing objects answer 404 on every endpoint that takes an id", () => {
  it('a bank, a core enterprise and a supplier of another program', async () => {
    const cases: [string, string, string, unknown?][] = [
      [other.credit.key, 'GET', `/v1/programs/${ids.programId}`],
      [other.core.key, 'GET', `/v1/programs/${ids.programId}`],
      [other.credit.key, 'POST', `/v1/programs/${ids.programId}/status`, { status: 'suspended', reason: 'x' }],
      [other.credit.key, 'POST', `/v1/programs/${ids.programId}/credit-lines`, { supplierOrganizationId: other.supplier.organizationId, limitFen: 1, expiresOn: '2027-11-22', revolving: true }],
      [other.credit.key, 'GET', `/v1/credit-lines/${ids.lineId}`],
      [other.supplier.key, 'GET', `/v1/credit-lines/${ids.lineId}`],
      [other.credit.key, 'GET', `/v1/credit-lines/${ids.lineId}/journal`],
      [other.risk.key, 'POST', `/v1/credit-lines/${ids.lineId}/freeze`, { reason: 'x' }],
      [other.credit.key, 'POST', `/v1/credit-lines/${ids.lineId}/unfreeze`, { reason: 'x' }],
      [other.credit.key, 'POST', `/v1/credit-lines/${ids.lineId}/journal/${ids.journalEntryId}/reverse`, { reason: 'x' }],
      [other.supplier.key, 'GET', `/v1/invoices/${ids.invoiceId}`],
      [other.core.key, 'GET', `/v1/invoices/${ids.invoiceId}`],
      [other.credit.key, 'GET', `/v1/invoices/${ids.invoiceId}`],
      [other.core.key, 'POST', `/v1/invoices/${ids.invoiceId}/confirm`, {}],
      [other.core.key, 'POST', `/v1/invoices/${ids.invoiceId}/reject`, { reason: 'x' }],
      [other.supplier.key, 'GET', `/v1/financing-requests/${ids.requestId}`],
      [other.credit.key, 'GET', `/v1/financing-requests/${ids.requestId}`],
      [other.supplier.key, 'POST', `/v1/financing-requests/${ids.requestId}/submit`],
      [other.credit.key, 'POST', `/v1/financing-requests/${ids.requestId}/approve`, {}],
      [other.credit.key, 'POST', `/v1/financing-requests/${ids.requestId}/reject`, { reason: 'x' }],
      [other.credit.key, 'POST', `/v1/financing-requests/${ids.requestId}/disburse`, { reference: 'x' }],
      [other.credit.key, 'POST', `/v1/financing-requests/${ids.requestId}/repayments`, { amountFen: 1, reference: 'x' }],
      [other.supplier.key, 'POST', '/v1/financing-requests', { creditLineId: ids.lineId, invoiceIds: [ids.invoiceId] }],
    ];
    for (const [key, method, path, body] of cases) {
      const res = await call(app, method, path, { key, body });
      if (res.status !== 404) throw new Error(`${method} ${path} answered ${res.status}: ${res.text}`);
      expectProblem(res, 404, 'not_found');
    }
  });

  it("another supplier cannot finance this supplier's invoice on its own line", async () => {
    const res = await call(app, 'POST', '/v1/financing-requests', { key: other.supplier.key, body: { creditLineId: other.line.id, invoiceIds: [ids.invoiceId] } });
    expect(expectProblem(res, 422, 'unprocessable').errors).toEqual([{ path: 'body/invoiceIds/0', message: 'invoice not found' }]);
  });

  it('lists and the audit trail show nothing of another tenant', async () => {
    const lists: [string, string, string][] = [
      [other.credit.key, '/v1/programs?limit=200', ids.programId],
      [other.credit.key, '/v1/credit-lines?limit=200', ids.lineId],
      [other.supplier.key, '/v1/credit-lines?limit=200', ids.lineId],
      [other.credit.key, '/v1/financing-requests?limit=200', ids.requestId],
      [other.supplier.key, '/v1/invoices?limit=200', ids.invoiceId],
      [other.core.key, '/v1/invoices?limit=200', ids.invoiceId],
      [other.core.key, `/v1/ledger/entries?entryId=${ids.entryId}`, ids.entryId],
      [other.credit.key, `/v1/audit-events?subjectId=${ids.requestId}`, ids.requestId],
    ];
    for (const [key, path, id] of lists) {
      const res = await ok(call(app, 'GET', path, { key }));
      expect(JSON.stringify(res.items)).not.toContain(id);
    }
    // …while the owners see them.
    expect(JSON.stringify((await ok(call(app, 'GET', '/v1/invoices?limit=200', { key: w.credit.key }))).items)).toContain(ids.invoiceId);
    expect(JSON.stringify((await ok(call(app, 'GET', `/v1/audit-events?subjectId=${ids.requestId}`, { key: w.credit.key }))).items)).toContain('financing.disbursed');
  });
});

describe('a role that may not act gets 403', () => {
  it('for every financing action, from inside the right tenant', async () => {
    const cases: [string, string, string, unknown?][] = [
      [w.supplier.key, 'POST', '/v1/programs', { coreEnterpriseOrganizationId: w.core.organizationId, name: 'x', limitFen: 1, advanceRateBp: 1, maxTenorDays: 1, annualRateBp: 1, dayCount: 'ACT/360', graceDays: 0, autoApprovalThresholdFen: 0 }],
      [w.risk.key, 'POST', '/v1/programs', { coreEnterpriseOrganizationId: w.core.organizationId, name: 'x', limitFen: 1, advanceRateBp: 1, maxTenorDays: 1, annualRateBp: 1, dayCount: 'ACT/360', graceDays: 0, autoApprovalThresholdFen: 0 }],
      [w.core.key, 'POST', `/v1/programs/${ids.programId}/status`, { status: 'suspended', reason: 'x' }],
      [w.risk.key, 'POST', `/v1/programs/${ids.programId}/credit-lines`, { supplierOrganizationId: w.supplier.organizationId, limitFen: 1, expiresOn: '2027-11-22', revolving: true }],
      [w.supplier.key, 'POST', `/v1/credit-lines/${ids.lineId}/freeze`, { reason: 'x' }],
      [w.risk.key, 'POST', `/v1/credit-lines/${ids.lineId}/unfreeze`, { reason: 'x' }],
      [w.risk.key, 'POST', `/v1/credit-lines/${ids.lineId}/journal/${ids.journalEntryId}/reverse`, { reason: 'x' }],
      [w.core.key, 'POST', '/v1/invoices', { buyerCreditCode: w.core.creditCode, invoiceNumber: uniqDigits(20), issueDate: '2026-11-01', dueDate: '2027-01-01', amountFen: 1 }],
      [w.credit.key, 'POST', '/v1/invoices/batch', { invoices: [{}] }],
      [w.supplier.key, 'POST', `/v1/invoices/${ids.invoiceId}/confirm`, {}],
      [w.supplier.key, 'POST', '/v1/ledger/entries', { entries: [{}] }],
      [w.credit.key, 'POST', '/v1/financing-requests', { creditLineId: ids.lineId, invoiceIds: [ids.invoiceId] }],
      [w.credit.key, 'POST', `/v1/financing-requests/${ids.requestId}/submit`],
      [w.supplier.key, 'POST', `/v1/financing-requests/${ids.requestId}/approve`, {}],
      [w.risk.key, 'POST', `/v1/financing-requests/${ids.requestId}/reject`, { reason: 'x' }],
      [w.supplier.key, 'POST', `/v1/financing-requests/${ids.requestId}/disburse`, { reference: 'x' }],
      [w.core.key, 'POST', `/v1/financing-requests/${ids.requestId}/repayments`, { amountFen: 1, reference: 'x' }],
      [w.supplier.key, 'GET', '/v1/credit-lines/reconciliation'],
      [w.supplier.key, 'GET', '/v1/ledger/entries'],
    ];
    for (const [key, method, path, body] of cases) {
      const res = await call(app, method, path, { key, body });
      if (res.status !== 403) throw new Error(`${method} ${path} answered ${res.status}: ${res.text}`);
      expectProblem(res, 403, 'forbidden');
    }
    const csv = await call(app, 'POST', '/v1/ledger/entries/csv', { key: w.supplier.key, rawBody: 'entry_id\n1', contentType: 'text/csv' });
    expectProblem(csv, 403, 'forbidden');
  });

  it('no key: 401 on every financing endpoint', async () => {
    for (const path of ['/v1/programs', '/v1/credit-lines', '/v1/invoices', '/v1/ledger/entries', '/v1/financing-requests', '/v1/audit-events', `/v1/financing-requests/${ids.requestId}`]) {
      expectProblem(await call(app, 'GET', path), 401, 'unauthenticated');
      expectProblem(await call(app, 'POST', path, { body: {} }), 401, 'unauthenticated');
    }
  });
});

describe('bad input is refused with every field named', () => {
  it('programs, lines, invoices, ledger entries, quotes', async () => {
    const bad: [string, string, string, unknown, string[]][] = [
      [w.credit.key, 'POST', '/v1/programs', { coreEnterpriseOrganizationId: 'nope', name: '', limitFen: 1.5, advanceRateBp: 20000, maxTenorDays: 0, annualRateBp: -1, dayCount: '30/360', graceDays: 0, autoApprovalThresholdFen: 0 }, ['body/coreEnterpriseOrganizationId', 'body/name', 'body/limitFen', 'body/advanceRateBp', 'body/maxTenorDays', 'body/annualRateBp', 'body/dayCount']],
      [w.credit.key, 'POST', `/v1/programs/${ids.programId}/credit-lines`, { supplierOrganizationId: w.supplier.organizationId, limitFen: 0, expiresOn: '2027-13-01', revolving: 'yes' }, ['body/limitFen', 'body/expiresOn', 'body/revolving']],
      [w.supplier.key, 'POST', '/v1/invoices', { buyerCreditCode: '91350100M000100Y44', invoiceNumber: '123', issueDate: '2026-11-01', dueDate: '2027-01-01', amountFen: 10, currency: 'USD' }, ['body/buyerCreditCode', 'body/currency']],
      [w.supplier.key, 'POST', '/v1/financing-requests', { creditLineId: ids.lineId, invoiceIds: [] }, ['body/invoiceIds']],
      [w.credit.key, 'POST', `/v1/financing-requests/${ids.requestId}/repayments`, { amountFen: 0, reference: '' }, ['body/amountFen', 'body/reference']],
    ];
    for (const [key, method, path, body, paths] of bad) {
      const problem = expectProblem(await call(app, method, path, { key, body }), 400, 'validation_failed');
      expect(problem.errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(paths));
    }
    const digital = await call(app, 'POST', '/v1/invoices', { key: w.supplier.key, body: { buyerCreditCode: w.core.creditCode, invoiceNumber: '123', issueDate: '2026-11-01', dueDate: '2027-01-01', amountFen: 10 } });
    expect(expectProblem(digital, 400, 'validation_failed').errors[0]).toEqual({ path: 'body/invoiceNumber', message: 'a fully digital invoice (数电票, no invoice code) has a 20-digit number' });
    const unknownBuyer = await call(app, 'POST', '/v1/invoices', { key: w.supplier.key, body: { buyerCreditCode: randomCreditCode(), invoiceNumber: uniqDigits(20), issueDate: '2026-11-01', dueDate: '2027-01-01', amountFen: 10 } });
    expect(expectProblem(unknownBuyer, 400, 'validation_failed').errors[0].path).toBe('body/buyerCreditCode');
    const ledger = await ok(call(app, 'POST', '/v1/ledger/entries', { key: w.core.key, body: { entries: [{ entryId: 'E1', supplierCreditCode: w.supplier.creditCode, invoiceNumber: '1', amountFen: 100, dueDate: '2027-01-01', status: 'paid', payments: [{ reference: 'p', amountFen: 50, date: '2027-01-01' }] }, { entryId: 'E2' }] } }));
    expect(ledger.rows.map((r: { outcome: string }) => r.outcome)).toEqual(['rejected', 'rejected']);
    expect(ledger.rows[0].errors[0].message).toMatch(/do not add up/);
    const csv = await call(app, 'POST', '/v1/ledger/entries/csv', { key: w.core.key, rawBody: 'foo,bar\n1,2', contentType: 'text/csv' });
    expect(expectProblem(csv, 400, 'validation_failed').detail).toMatch(/header row lacks entryId/);
    const json = await call(app, 'POST', '/v1/ledger/entries/csv', { key: w.core.key, body: { entries: [] } });
    expectProblem(json, 415, 'unsupported_media_type');
  });
});

describe('Idempotency-Key on the money-moving endpoints: a retry replays, the money moves once', () => {
  it('quote, submit, approve, disburse, repayment, reversal, ledger push, CSV upload, invoice batch', async () => {
    const iw = await financingWorld(app, f);
    const inv = await confirmedInvoice(app, iw, 2_000_000);
    const twice = async (key: string, method: string, path: string, body: unknown, idem: string, contentType?: string) => {
      const rawBody = typeof body === 'string' ? body : undefined;
      const first = await call(app, method, path, { key, body: rawBody === undefined ? body : undefined, rawBody, contentType, headers: { 'idempotency-key': idem } });
      const second = await call(app, method, path, { key, body: rawBody === undefined ? body : undefined, rawBody, contentType, headers: { 'idempotency-key': idem } });
      expect(first.status).toBeLessThan(300);
      expect(second.status).toBe(first.status);
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      expect(second.text).toBe(first.text);
      return first.body;
    };
    const quote = await twice(iw.supplier.key, 'POST', '/v1/financing-requests', { creditLineId: iw.line.id, invoiceIds: [inv.id] }, 'q-1');
    await twice(iw.supplier.key, 'POST', `/v1/financing-requests/${quote.id}/submit`, undefined, 's-1');
    await twice(iw.credit.key, 'POST', `/v1/financing-requests/${quote.id}/approve`, {}, 'a-1');
    await twice(iw.credit.key, 'POST', `/v1/financing-requests/${quote.id}/disburse`, { reference: 'D' }, 'd-1');
    await twice(iw.credit.key, 'POST', `/v1/financing-requests/${quote.id}/repayments`, { amountFen: 100_000, reference: 'R' }, 'r-1');
    const journal = await ok(call(app, 'GET', `/v1/credit-lines/${iw.line.id}/journal`, { key: iw.credit.key }));
    await twice(iw.credit.key, 'POST', `/v1/credit-lines/${iw.line.id}/journal/${journal.items[1].id}/reverse`, { reason: 'bounced' }, 'rv-1');
    await twice(iw.core.key, 'POST', '/v1/ledger/entries', { entries: [{ entryId: 'IDEM-1', supplierCreditCode: iw.supplier.creditCode, invoiceNumber: uniqDigits(8), amountFen: 5, dueDate: '2027-01-01', status: 'open' }] }, 'l-1');
    await twice(iw.core.key, 'POST', '/v1/ledger/entries/csv', `entry_id,supplier_credit_code,invoice_number,amount,due_date,status\nIDEM-2,${iw.supplier.creditCode},${uniqDigits(8)},1.00,2027-01-01,open`, 'c-1', 'text/csv');
    await twice(iw.supplier.key, 'POST', '/v1/invoices/batch', { invoices: [{ buyerCreditCode: iw.core.creditCode, invoiceNumber: uniqDigits(20), issueDate: '2026-11-01', dueDate: '2027-01-01', amountFen: 10 }] }, 'b-1');

    const { database } = await services();
    const [counts] = await database.sql<{ requests: number; entries: number; versions: number }[]>`
      select (select count(*)::int from financing_requests where credit_line_id = ${iw.line.id}) as requests,
             (select count(*)::int from credit_line_journal where credit_line_id = ${iw.line.id}) as entries,
             (select count(*)::int from ledger_entries where core_enterprise_organization_id = ${iw.core.organizationId} and external_id like 'IDEM-%') as versions`;
    expect(counts).toEqual({ requests: 1, entries: 3, versions: 2 }); // drawdown, repayment, its reversal
    expect(await ok(call(app, 'GET', `/v1/credit-lines/${iw.line.id}`, { key: iw.credit.key }))).toMatchObject({ outstandingFen: 1_600_000 });
  });
});
