import { beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/lib/clock';
import { call, expectProblem, factories, testApp } from '../support/harness';
import { confirmedInvoice, financingWorld, ok, uniqDigits, type World } from '../support/financing';

const clock = fixedClock('2026-11-22T02:00:00Z');
let app: Awaited<ReturnType<typeof testApp>>['app'];
let w: World;

beforeAll(async () => {
  ({ app } = await testApp({ clock }));
  w = await financingWorld(app, await factories());
});

const register = (invoiceCode: string, invoiceNumber: string, amountFen: number) =>
  ok(call(app, 'POST', '/v1/invoices', { key: w.supplier.key, body: { buyerCreditCode: w.core.creditCode, invoiceCode, invoiceNumber, issueDate: '2026-11-01', dueDate: '2027-01-20', amountFen } }), 201);
const push = (entries: unknown[]) => ok(call(app, 'POST', '/v1/ledger/entries', { key: w.core.key, body: { entries } }));

describe('one payable backs one receivable', () => {
  it('a ledger entry without an invoice code that fits two invoices confirms neither; with the code it confirms the right one', async () => {
    const number = uniqDigits(8);
    const a = await register('1100000000', number, 200_000);
    const b = await register('2200000000', number, 200_000);
    const entry = { entryId: `AP-${number}`, supplierCreditCode: w.supplier.creditCode, invoiceNumber: number, amountFen: 200_000, dueDate: '2027-01-20', status: 'open' };
    await push([entry]);
    for (const inv of [a, b]) {
      const got = await ok(call(app, 'GET', `/v1/invoices/${inv.id}`, { key: w.supplier.key }));
      expect(got.confirmationStatus).toBe('mismatch');
      expect(got.confirmationReason).toMatch(/fits 2 invoices .* must send the invoice code/);
    }
    await push([{ ...entry, invoiceCode: '2200000000' }]);
    expect((await ok(call(app, 'GET', `/v1/invoices/${a.id}`, { key: w.supplier.key }))).confirmationStatus).toBe('unconfirmed');
    expect((await ok(call(app, 'GET', `/v1/invoices/${b.id}`, { key: w.supplier.key }))).confirmationStatus).toBe('confirmed');
  });
});

describe('ledger payments repay only money lent against', () => {
  it('a payment made before financing is not booked again as a repayment', async () => {
    const number = uniqDigits(8);
    const inv = await register('3100231130', number, 100_000);
    const entry = { entryId: `AP-${number}`, supplierCreditCode: w.supplier.creditCode, invoiceNumber: number, amountFen: 100_000, dueDate: '2027-01-20', status: 'partially_paid', payments: [{ reference: 'EARLY', amountFen: 40_000, date: '2026-11-20' }] };
    await push([entry]);
    const q = await ok(call(app, 'POST', '/v1/financing-requests', { key: w.supplier.key, body: { creditLineId: w.line.id, invoiceIds: [inv.id] } }), 201);
    expect(q.principalFen).toBe(48_000); // 80% of the 60,000 still owed
    await ok(call(app, 'POST', `/v1/financing-requests/${q.id}/submit`, { key: w.supplier.key }));
    await ok(call(app, 'POST', `/v1/financing-requests/${q.id}/approve`, { key: w.credit.key, body: {} }));
    await ok(call(app, 'POST', `/v1/financing-requests/${q.id}/disburse`, { key: w.credit.key, body: { reference: 'D' } }));
    const paid = await push([{ ...entry, payments: [...entry.payments, { reference: 'LATER', amountFen: 1_000, date: '2026-11-22' }] }]);
    expect(paid.repaymentsApplied).toBe(1);
    expect(await ok(call(app, 'GET', `/v1/financing-requests/${q.id}`, { key: w.supplier.key }))).toMatchObject({ repaidFen: 1_000, outstandingFen: 47_000 });
  });
});

describe('dates and amounts a bank would refuse', () => {
  it('a disbursement value date before the quote or in the future, and a year-0000 date, are 400s', async () => {
    const inv = await confirmedInvoice(app, w, 100_000);
    const q = await ok(call(app, 'POST', '/v1/financing-requests', { key: w.supplier.key, body: { creditLineId: w.line.id, invoiceIds: [inv.id] } }), 201);
    await ok(call(app, 'POST', `/v1/financing-requests/${q.id}/submit`, { key: w.supplier.key }));
    await ok(call(app, 'POST', `/v1/financing-requests/${q.id}/approve`, { key: w.credit.key, body: {} }));
    for (const valueDate of ['2001-01-01', '2099-01-01']) {
      expect(expectProblem(await call(app, 'POST', `/v1/financing-requests/${q.id}/disburse`, { key: w.credit.key, body: { reference: 'D', valueDate } }), 400, 'validation_failed').errors[0].path).toBe('body/valueDate');
    }
    expectProblem(await call(app, 'POST', `/v1/financing-requests/${q.id}/disburse`, { key: w.credit.key, body: { reference: 'D', valueDate: '0000-01-01' } }), 400, 'validation_failed');
    const batch = await ok(call(app, 'POST', '/v1/invoices/batch', { key: w.supplier.key, body: { invoices: [{ buyerCreditCode: w.core.creditCode, invoiceNumber: uniqDigits(20), issueDate: '0000-01-01', dueDate: '2027-01-01', amountFen: 10 }] } }));
    expect(batch.rejected).toBe(1);
    expectProblem(await call(app, 'POST', '/v1/invoices', { key: w.supplier.key, body: { buyerCreditCode: w.core.creditCode, invoiceNumber: uniqDigits(20), issueDate: '2026-01-01', dueDate: '2027-01-01', amountFen: 9_000_000_000_000_000 } }), 400, 'validation_failed');
  });
});

describe('requests that will not be disbursed end, and their invoices are free again', () => {
  it('the supplier withdraws before a decision; the bank cancels an approved one; neither can cancel a disbursed one', async () => {
    const inv = await confirmedInvoice(app, w, 500_000);
    const q1 = await ok(call(app, 'POST', '/v1/financing-requests', { key: w.supplier.key, body: { creditLineId: w.line.id, invoiceIds: [inv.id] } }), 201);
    await ok(call(app, 'POST', `/v1/financing-requests/${q1.id}/submit`, { key: w.supplier.key }));
    expect(await ok(call(app, 'POST', `/v1/financing-requests/${q1.id}/cancel`, { key: w.supplier.key, body: { reason: 'sold the receivable elsewhere' } }))).toMatchObject({ status: 'cancelled' });

    const reservedBefore = (await ok(call(app, 'GET', `/v1/credit-lines/${w.line.id}`, { key: w.credit.key }))).reservedFen;
    const q2 = await ok(call(app, 'POST', '/v1/financing-requests', { key: w.supplier.key, body: { creditLineId: w.line.id, invoiceIds: [inv.id] } }), 201);
    await ok(call(app, 'POST', `/v1/financing-requests/${q2.id}/submit`, { key: w.supplier.key }));
    await ok(call(app, 'POST', `/v1/financing-requests/${q2.id}/approve`, { key: w.credit.key, body: {} }));
    expect((await call(app, 'POST', `/v1/financing-requests/${q2.id}/cancel`, { key: w.supplier.key, body: { reason: 'x' } })).body.currentStatus).toBe('approved');
    expect(await ok(call(app, 'GET', `/v1/credit-lines/${w.line.id}`, { key: w.credit.key }))).toMatchObject({ reservedFen: reservedBefore + 400_000 });
    await ok(call(app, 'POST', `/v1/financing-requests/${q2.id}/cancel`, { key: w.credit.key, body: { reason: 'line under review' } }));
    expect(await ok(call(app, 'GET', `/v1/credit-lines/${w.line.id}`, { key: w.credit.key }))).toMatchObject({ reservedFen: reservedBefore });

    const q3 = await ok(call(app, 'POST', '/v1/financing-requests', { key: w.supplier.key, body: { creditLineId: w.line.id, invoiceIds: [inv.id] } }), 201);
    await ok(call(app, 'POST', `/v1/financing-requests/${q3.id}/submit`, { key: w.supplier.key }));
    await ok(call(app, 'POST', `/v1/financing-requests/${q3.id}/approve`, { key: w.credit.key, body: {} }));
    await ok(call(app, 'POST', `/v1/financing-requests/${q3.id}/disburse`, { key: w.credit.key, body: { reference: 'D' } }));
    expect(expectProblem(await call(app, 'POST', `/v1/financing-requests/${q3.id}/cancel`, { key: w.credit.key, body: { reason: 'x' } }), 409, 'conflict').currentStatus).toBe('disbursed');

    // A credit note issued after disbursement shrinks the receivable under the loan: an event for the warnings.
    await push([{ entryId: inv.entryId, supplierCreditCode: w.supplier.creditCode, invoiceNumber: inv.invoiceNumber, amountFen: 500_000, dueDate: '2027-01-20', status: 'open', creditNotes: [{ reference: 'CN-9', amountFen: 200_000, date: '2026-11-22' }] }]);
    const { services } = await import('../support/harness');
    const { database } = await services();
    const events = await database.sql<{ type: string }[]>`select type from financing_events where subject_id = ${inv.id}`;
    expect(events.map((e) => e.type)).toEqual(['financed_invoice_impaired']);
  });
});
