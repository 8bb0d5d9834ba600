import { beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/lib/clock';
import { call, expectProblem, factories, services, testApp } from '../support/harness';
import { financingWorld, ok, uniqDigits, type World } from '../support/financing';

// 10:00 in Shanghai on 2026-11-22: the business date every figure below is computed from.
const clock = fixedClock('2026-11-22T02:00:00Z');
let app: Awaited<ReturnType<typeof testApp>>['app'];
let w: World;

beforeAll(async () => {
  ({ app } = await testApp({ clock }));
  w = await financingWorld(app, await factories());
});

function gbk(text: string): Uint8Array {
  // Encode by asking the GBK decoder for each character's bytes (Node has no GBK encoder).
  const decoder = new TextDecoder('gbk');
  const out: number[] = [];
  for (const ch of text) {
    if (ch.charCodeAt(0) < 0x80) {
      out.push(ch.charCodeAt(0));
      continue;
    }
    let found = false;
    for (let hi = 0x81; hi <= 0xfe && !found; hi++) {
      for (let lo = 0x40; lo <= 0xfe; lo++) {
        if (decoder.decode(new Uint8Array([hi, lo])) === ch) {
          out.push(hi, lo);
          found = true;
          break;
        }
      }
    }
    if (!found) throw new Error(`no GBK code for ${ch}`);
  }
  return new Uint8Array(out);
}

describe('receivables financing, end to end over HTTP', () => {
  it('program → line → invoices → ledger (JSON and GBK CSV with a bad row) → confirmation → quote → request → approval → disbursement → ledger payment → repayment → line restored', async () => {
    const { supplier, core, credit, line } = w;
    const numA = uniqDigits(8);
    const numB = `263${uniqDigits(17)}`; // 数电票: 20 digits, no code
    const numC = uniqDigits(8);

    // Invoices, one batch: all registered, none confirmed yet (no ledger entry).
    const batch = await ok(
      call(app, 'POST', '/v1/invoices/batch', {
        key: supplier.key,
        body: {
          invoices: [
            { buyerCreditCode: core.creditCode, invoiceCode: '3100231130', invoiceNumber: numA, issueDate: '2026-11-01', dueDate: '2027-01-20', amountFen: 12_345_678 },
            { buyerCreditCode: core.creditCode, invoiceNumber: numB, issueDate: '2026-11-05', dueDate: '2027-02-15', amountFen: 6_000_000 },
            { buyerCreditCode: core.creditCode, invoiceCode: '3100231130', invoiceNumber: numC, issueDate: '2026-11-06', dueDate: '2027-01-31', amountFen: 1_000_000 },
            { buyerCreditCode: core.creditCode, invoiceCode: '31002', invoiceNumber: 'x', issueDate: '2026-11-06', dueDate: '2026-01-31', amountFen: -5 },
          ],
        },
      }),
    );
    expect(batch).toMatchObject({ created: 3, existing: 0, rejected: 1 });
    expect(batch.results[3].errors.map((e: { path: string }) => e.path)).toContain('invoices/3/amountFen');
    const [invA, invB, invC] = batch.results.slice(0, 3).map((r: { invoice: { id: string } }) => r.invoice);
    expect(invA.confirmationStatus).toBe('unconfirmed');
    expect(invA.confirmationReason).toMatch(/no entry/);

    // The core enterprise's ERP pushes its payables: A matches, B has a credit note, C's amount differs.
    const pushed = await ok(
      call(app, 'POST', '/v1/ledger/entries', {
        key: core.key,
        body: {
          entries: [
            { entryId: 'AP-A', supplierCreditCode: supplier.creditCode, invoiceNumber: numA, amountFen: 12_345_678, dueDate: '2027-01-20', status: 'open' },
            { entryId: 'AP-B', supplierCreditCode: supplier.creditCode, invoiceNumber: numB, amountFen: 6_000_000, dueDate: '2027-02-15', status: 'open', creditNotes: [{ reference: 'CN-1', amountFen: 500_000, date: '2026-11-10' }] },
            { entryId: 'AP-C', supplierCreditCode: supplier.creditCode, invoiceNumber: numC, amountFen: 1_100_000, dueDate: '2027-01-31', status: 'open' },
          ],
        },
      }),
    );
    expect(pushed).toMatchObject({ accepted: 3, rejected: 0, invoicesUpdated: 3 });
    const c1 = await ok(call(app, 'GET', `/v1/invoices/${invC.id}`, { key: supplier.key }));
    expect(c1.confirmationStatus).toBe('mismatch');
    expect(c1.confirmationReason).toBe('amount differs by ¥1,000.00: ledger ¥11,000.00, invoice ¥10,000.00');
    const b1 = await ok(call(app, 'GET', `/v1/invoices/${invB.id}`, { key: supplier.key }));
    expect(b1).toMatchObject({ confirmationStatus: 'confirmed', creditNoteFen: 500_000, financeableFaceFen: 5_500_000 });

    // A corrected export arrives as a GBK CSV with Chinese headers and one bad row.
    const csv = [
      '单据号,供应商统一社会信用代码,发票号码,金额,到期日,状态',
      `AP-C,${supplier.creditCode},${numC},"10,000.00",2027/01/31,未付`,
      `AP-X,91350100M000100Y44,${uniqDigits(8)},12.345,2027-01-31,未付`,
    ].join('\r\n');
    // Sent with an Idempotency-Key: the middleware must hash the bytes without mangling the GBK body.
    const upload = await ok(call(app, 'POST', '/v1/ledger/entries/csv', { key: core.key, rawBody: Buffer.from(gbk(csv)) as unknown as string, contentType: 'text/csv', headers: { 'idempotency-key': 'erp-export-2026-11-22' } }));
    expect(upload.accepted).toBe(1);
    expect(upload.rejected).toBe(1);
    expect(upload.rows[0]).toMatchObject({ row: 2, entryId: 'AP-C', outcome: 'new_version', version: 2 });
    expect(upload.rows[1]).toMatchObject({ row: 3, entryId: 'AP-X', outcome: 'rejected' });
    expect(upload.rows[1].errors.map((e: { message: string }) => e.message).join(' ')).toMatch(/not an amount in yuan|check character/);
    expect((await ok(call(app, 'GET', `/v1/invoices/${invC.id}`, { key: supplier.key }))).confirmationStatus).toBe('confirmed');
    const versions = await ok(call(app, 'GET', '/v1/ledger/entries?entryId=AP-C', { key: core.key }));
    expect(versions.items.map((v: { version: number; current: boolean }) => [v.version, v.current])).toEqual([
      [1, false],
      [2, true],
    ]);

    // Quote on A and B: every part shown, to the fen.
    const quote = await ok(call(app, 'POST', '/v1/financing-requests', { key: supplier.key, body: { creditLineId: line.id, invoiceIds: [invA.id, invB.id] } }), 201);
    expect(quote).toMatchObject({ status: 'quoted', faceValueFen: 17_845_678, principalFen: 14_276_542, tenorDays: 59, interestFen: 105_289, maturityDate: '2027-01-20' });
    expect(quote.breakdown).toMatchObject({ advanceFen: 14_276_542, cappedBy: 'advance_rate', daysToEarliestDue: 59, totalDueAtMaturityFen: 14_381_831 });

    const submitted = await ok(call(app, 'POST', `/v1/financing-requests/${quote.id}/submit`, { key: supplier.key }));
    expect(submitted.status).toBe('submitted');
    expect((await ok(call(app, 'GET', `/v1/invoices/${invA.id}`, { key: supplier.key }))).financing).toBe('under_financing');

    const approved = await ok(call(app, 'POST', `/v1/financing-requests/${quote.id}/approve`, { key: credit.key, body: { reason: 'core enterprise confirmed' } }));
    expect(approved.status).toBe('approved');
    expect(await ok(call(app, 'GET', `/v1/credit-lines/${line.id}`, { key: supplier.key }))).toMatchObject({ outstandingFen: 0, reservedFen: 14_276_542, availableFen: 50_000_000 - 14_276_542 });

    const disbursed = await ok(call(app, 'POST', `/v1/financing-requests/${quote.id}/disburse`, { key: credit.key, body: { reference: 'CNAPS-20261122-0001' } }));
    expect(disbursed).toMatchObject({ status: 'disbursed', valueDate: '2026-11-22', disbursementReference: 'CNAPS-20261122-0001', outstandingFen: 14_276_542 });
    expect(await ok(call(app, 'GET', `/v1/credit-lines/${line.id}`, { key: credit.key }))).toMatchObject({ outstandingFen: 14_276_542, reservedFen: 0, availableFen: 35_723_458 });

    // The buyer pays invoice A in full: its ledger payment repays the financing.
    const paid = await ok(
      call(app, 'POST', '/v1/ledger/entries', {
        key: core.key,
        body: { entries: [{ entryId: 'AP-A', supplierCreditCode: supplier.creditCode, invoiceNumber: numA, amountFen: 12_345_678, dueDate: '2027-01-20', status: 'paid', payments: [{ reference: 'PAY-1', amountFen: 12_345_678, date: '2027-01-20' }] }] },
      }),
    );
    expect(paid).toMatchObject({ accepted: 1, repaymentsApplied: 1 });
    // Sending the same ledger again changes nothing.
    const again = await ok(
      call(app, 'POST', '/v1/ledger/entries', {
        key: core.key,
        body: { entries: [{ entryId: 'AP-A', supplierCreditCode: supplier.creditCode, invoiceNumber: numA, amountFen: 12_345_678, dueDate: '2027-01-20', status: 'paid', payments: [{ reference: 'PAY-1', amountFen: 12_345_678, date: '2027-01-20' }] }] },
      }),
    );
    expect(again).toMatchObject({ accepted: 1, repaymentsApplied: 0, rows: [{ outcome: 'unchanged', version: 2 }] });
    const partly = await ok(call(app, 'GET', `/v1/financing-requests/${quote.id}`, { key: supplier.key }));
    expect(partly).toMatchObject({ status: 'disbursed', repaidFen: 12_345_678, outstandingFen: 1_930_864 });

    // The rest is repaid by transfer, recorded by the credit officer.
    expectProblem(await call(app, 'POST', `/v1/financing-requests/${quote.id}/repayments`, { key: credit.key, body: { amountFen: 1_930_865, reference: 'too much' } }), 422, 'unprocessable');
    const repaid = await ok(call(app, 'POST', `/v1/financing-requests/${quote.id}/repayments`, { key: credit.key, body: { amountFen: 1_930_864, reference: 'TRF-9' } }));
    expect(repaid).toMatchObject({ status: 'repaid', repaidFen: 14_276_542, outstandingFen: 0 });

    // The revolving line is whole again, and its journal explains every fen.
    expect(await ok(call(app, 'GET', `/v1/credit-lines/${line.id}`, { key: supplier.key }))).toMatchObject({ outstandingFen: 0, availableFen: 50_000_000 });
    const journal = await ok(call(app, 'GET', `/v1/credit-lines/${line.id}/journal`, { key: credit.key }));
    expect(journal.items.map((j: { kind: string; amountFen: number }) => [j.kind, j.amountFen])).toEqual([
      ['drawdown', 14_276_542],
      ['repayment', -12_345_678],
      ['repayment', -1_930_864],
    ]);
    const recon = await ok(call(app, 'GET', '/v1/credit-lines/reconciliation', { key: credit.key }));
    expect(recon.mismatches).toEqual([]);
    expect(recon.checkedLines).toBeGreaterThanOrEqual(1);

    // An illegal transition names the current state.
    const illegal = expectProblem(await call(app, 'POST', `/v1/financing-requests/${quote.id}/approve`, { key: credit.key, body: {} }), 409, 'conflict');
    expect(illegal.currentStatus).toBe('repaid');

    // The bank reads the audit trail of the request: who, what, before and after.
    const audit = await ok(call(app, 'GET', `/v1/audit-events?subjectType=financing_request&subjectId=${quote.id}`, { key: credit.key }));
    expect(audit.items.map((a: { action: string }) => a.action)).toEqual(['financing.quoted', 'financing.submitted', 'financing.approved', 'financing.disbursed', 'financing.repaid', 'financing.repaid']);
    expect(audit.items[3].data.before).toEqual({ status: 'approved' });
    const { database } = await services();
    const [sum] = await database.sql<{ total: string }[]>`select coalesce(sum(amount_fen),0)::text as total from credit_line_journal where credit_line_id = ${line.id}`;
    expect(sum!.total).toBe('0');
  });

  it('a cancelled ledger entry on a financed invoice makes it ineligible and stores an event for the warnings', async () => {
    const numD = uniqDigits(8);
    const inv = await ok(call(app, 'POST', '/v1/invoices', { key: w.supplier.key, body: { buyerCreditCode: w.core.creditCode, invoiceCode: '3100231130', invoiceNumber: numD, issueDate: '2026-11-01', dueDate: '2027-02-01', amountFen: 2_000_000 } }), 201);
    const entry = { entryId: `AP-${numD}`, supplierCreditCode: w.supplier.creditCode, invoiceNumber: numD, amountFen: 2_000_000, dueDate: '2027-02-01' };
    await ok(call(app, 'POST', '/v1/ledger/entries', { key: w.core.key, body: { entries: [{ ...entry, status: 'open' }] } }));
    const quote = await ok(call(app, 'POST', '/v1/financing-requests', { key: w.supplier.key, body: { creditLineId: w.line.id, invoiceIds: [inv.id] } }), 201);
    await ok(call(app, 'POST', `/v1/financing-requests/${quote.id}/submit`, { key: w.supplier.key }));
    await ok(call(app, 'POST', '/v1/ledger/entries', { key: w.core.key, body: { entries: [{ ...entry, status: 'cancelled' }] } }));
    const after = await ok(call(app, 'GET', `/v1/invoices/${inv.id}`, { key: w.supplier.key }));
    expect(after).toMatchObject({ confirmationStatus: 'mismatch', financeableFaceFen: 0 });
    expect(after.confirmationReason).toMatch(/cancelled in the ledger/);
    const { database } = await services();
    const events = await database.sql`select type, bank_organization_id from financing_events where subject_id = ${inv.id}`;
    expect(events).toEqual([{ type: 'financed_invoice_cancelled', bank_organization_id: w.credit.organizationId }]);
    // Approval now still sees the request; the bank decides with the event in front of it.
    await ok(call(app, 'POST', `/v1/financing-requests/${quote.id}/reject`, { key: w.credit.key, body: { reason: 'invoice cancelled by the buyer' } }));
  });
});
