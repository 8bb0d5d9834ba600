import { beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/lib/clock';
import { call, factories, services, testApp } from '../support/harness';
import { confirmedInvoice, financingWorld, ok } from '../support/financing';

const clock = fixedClock('2026-11-22T02:00:00Z');
let app: Awaited<ReturnType<typeof testApp>>['app'];
let f: Awaited<ReturnType<typeof factories>>;

beforeAll(async () => {
  ({ app } = await testApp({ clock }));
  f = await factories();
});

describe('a credit line is never overdrawn, however many requests race', () => {
  it('100 concurrent approvals and then the drawdowns: exactly what fits is approved, and outstanding = Σ journal = Σ disbursed', async () => {
    // 1,000,000 fen line; each request advances 80,000 (80% of 100,000): 12 fit, 88 do not.
    const w = await financingWorld(app, f, { lineLimitFen: 1_000_000 });
    const requests: string[] = [];
    for (let i = 0; i < 100; i++) {
      const inv = await confirmedInvoice(app, w, 100_000);
      const quote = await ok(call(app, 'POST', '/v1/financing-requests', { key: w.supplier.key, body: { creditLineId: w.line.id, invoiceIds: [inv.id] } }), 201);
      expect(quote.principalFen).toBe(80_000);
      await ok(call(app, 'POST', `/v1/financing-requests/${quote.id}/submit`, { key: w.supplier.key }));
      requests.push(quote.id);
    }
    const approvals = await Promise.all(requests.map((id) => call(app, 'POST', `/v1/financing-requests/${id}/approve`, { key: w.credit.key, body: {} })));
    const approved = requests.filter((_, i) => approvals[i]!.status === 200);
    expect(approved).toHaveLength(12);
    for (const a of approvals) expect([200, 409]).toContain(a.status);

    const disbursals = await Promise.all(approved.map((id, i) => call(app, 'POST', `/v1/financing-requests/${id}/disburse`, { key: w.credit.key, body: { reference: `TRX-${i}` } })));
    expect(disbursals.map((d) => d.status)).toEqual(approved.map(() => 200));

    const line = await ok(call(app, 'GET', `/v1/credit-lines/${w.line.id}`, { key: w.credit.key }));
    expect(line).toMatchObject({ outstandingFen: 960_000, reservedFen: 0, availableFen: 40_000 });
    const { database } = await services();
    const [journal] = await database.sql<{ total: string; n: number }[]>`select sum(amount_fen)::text as total, count(*)::int as n from credit_line_journal where credit_line_id = ${w.line.id}`;
    expect(journal).toEqual({ total: '960000', n: 12 });
    const [disbursed] = await database.sql<{ total: string }[]>`select sum(principal_fen)::text as total from financing_requests where credit_line_id = ${w.line.id} and status = 'disbursed'`;
    expect(disbursed!.total).toBe('960000');
  }, 120_000);

  it('the same invoice in two concurrent requests is financed once', async () => {
    const w = await financingWorld(app, f);
    const inv = await confirmedInvoice(app, w, 3_000_000);
    const quotes = await Promise.all(
      [0, 1, 2, 3].map(() => ok(call(app, 'POST', '/v1/financing-requests', { key: w.supplier.key, body: { creditLineId: w.line.id, invoiceIds: [inv.id] } }), 201)),
    );
    const submits = await Promise.all(quotes.map((q) => call(app, 'POST', `/v1/financing-requests/${q.id}/submit`, { key: w.supplier.key })));
    expect(submits.filter((s) => s.status === 200)).toHaveLength(1);
    for (const s of submits.filter((x) => x.status !== 200)) {
      expect(s.status).toBe(409);
      expect(s.body.duplicateFinancing).toBe(true);
    }
    const { database } = await services();
    const [held] = await database.sql<{ n: number }[]>`select count(*)::int as n from financed_invoices where invoice_id = ${inv.id} and active`;
    expect(held!.n).toBe(1);
  });

  it('duplicate financing is refused across two banks, naming the invoice, and the attempt is recorded', async () => {
    const w1 = await financingWorld(app, f);
    // A second bank runs its own program over the same core enterprise and the same supplier.
    const w2 = await financingWorld(app, f, { core: w1.core, supplier: w1.supplier });
    const inv = await confirmedInvoice(app, w1, 2_000_000);
    const q1 = await ok(call(app, 'POST', '/v1/financing-requests', { key: w1.supplier.key, body: { creditLineId: w1.line.id, invoiceIds: [inv.id] } }), 201);
    await ok(call(app, 'POST', `/v1/financing-requests/${q1.id}/submit`, { key: w1.supplier.key }));

    const refused = await call(app, 'POST', '/v1/financing-requests', { key: w2.supplier.key, body: { creditLineId: w2.line.id, invoiceIds: [inv.id] } });
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toContain(inv.invoiceNumber);
    expect(refused.body.detail).toContain('重复融资');
    expect(refused.body.invoiceNumbers).toEqual([inv.invoiceNumber]);
    // Bank 1's request is not disclosed to bank 2's side.
    expect(refused.text).not.toContain(q1.id);
    const { database } = await services();
    const events = await database.sql<{ bank_organization_id: string }[]>`select bank_organization_id from financing_events where type = 'duplicate_financing_refused' and subject_id = ${inv.id}`;
    expect(events.map((e) => e.bank_organization_id)).toEqual([w2.credit.organizationId]);

    // Once bank 1 rejects, the invoice is free for bank 2.
    await ok(call(app, 'POST', `/v1/financing-requests/${q1.id}/reject`, { key: w1.credit.key, body: { reason: 'supplier withdrew' } }));
    await ok(call(app, 'POST', '/v1/financing-requests', { key: w2.supplier.key, body: { creditLineId: w2.line.id, invoiceIds: [inv.id] } }), 201);
  });

  it('a frozen line takes no drawdown; only a credit officer unfreezes it', async () => {
    const w = await financingWorld(app, f);
    const inv = await confirmedInvoice(app, w, 1_000_000);
    const q = await ok(call(app, 'POST', '/v1/financing-requests', { key: w.supplier.key, body: { creditLineId: w.line.id, invoiceIds: [inv.id] } }), 201);
    await ok(call(app, 'POST', `/v1/financing-requests/${q.id}/submit`, { key: w.supplier.key }));
    await ok(call(app, 'POST', `/v1/financing-requests/${q.id}/approve`, { key: w.credit.key, body: {} }));
    await ok(call(app, 'POST', `/v1/credit-lines/${w.line.id}/freeze`, { key: w.risk.key, body: { reason: 'registry: legal representative changed' } }));
    const blocked = await call(app, 'POST', `/v1/financing-requests/${q.id}/disburse`, { key: w.credit.key, body: { reference: 'X' } });
    expect(blocked.status).toBe(409);
    expect(blocked.body.creditLineStatus).toBe('frozen');
    expect((await call(app, 'POST', `/v1/credit-lines/${w.line.id}/unfreeze`, { key: w.risk.key, body: { reason: 'checked' } })).status).toBe(403);
    await ok(call(app, 'POST', `/v1/credit-lines/${w.line.id}/unfreeze`, { key: w.credit.key, body: { reason: 'checked, no risk' } }));
    await ok(call(app, 'POST', `/v1/financing-requests/${q.id}/disburse`, { key: w.credit.key, body: { reference: 'X' } }));
  });

  it('auto-approval below the program threshold; a non-revolving line is not restored by repayment', async () => {
    const w = await financingWorld(app, f, { autoApprovalThresholdFen: 1_000_000, revolving: false, lineLimitFen: 2_000_000 });
    const inv = await confirmedInvoice(app, w, 1_000_000);
    const q = await ok(call(app, 'POST', '/v1/financing-requests', { key: w.supplier.key, body: { creditLineId: w.line.id, invoiceIds: [inv.id] } }), 201);
    const submitted = await ok(call(app, 'POST', `/v1/financing-requests/${q.id}/submit`, { key: w.supplier.key }));
    expect(submitted).toMatchObject({ status: 'approved', decidedBy: 'system:auto-approval' });
    await ok(call(app, 'POST', `/v1/financing-requests/${q.id}/disburse`, { key: w.credit.key, body: { reference: 'A' } }));
    await ok(call(app, 'POST', `/v1/financing-requests/${q.id}/repayments`, { key: w.credit.key, body: { amountFen: 800_000, reference: 'R' } }));
    expect(await ok(call(app, 'GET', `/v1/credit-lines/${w.line.id}`, { key: w.supplier.key }))).toMatchObject({ outstandingFen: 0, drawnFen: 800_000, availableFen: 1_200_000 });
  });

  it('reversing a disbursement returns the request to approved and the line to its former balance; the journal refuses edits', async () => {
    const w = await financingWorld(app, f);
    const inv = await confirmedInvoice(app, w, 1_000_000);
    const q = await ok(call(app, 'POST', '/v1/financing-requests', { key: w.supplier.key, body: { creditLineId: w.line.id, invoiceIds: [inv.id] } }), 201);
    await ok(call(app, 'POST', `/v1/financing-requests/${q.id}/submit`, { key: w.supplier.key }));
    await ok(call(app, 'POST', `/v1/financing-requests/${q.id}/approve`, { key: w.credit.key, body: {} }));
    await ok(call(app, 'POST', `/v1/financing-requests/${q.id}/disburse`, { key: w.credit.key, body: { reference: 'BOUNCED' } }));
    const journal = await ok(call(app, 'GET', `/v1/credit-lines/${w.line.id}/journal`, { key: w.credit.key }));
    const drawdown = journal.items[0];
    const reversal = await ok(call(app, 'POST', `/v1/credit-lines/${w.line.id}/journal/${drawdown.id}/reverse`, { key: w.credit.key, body: { reason: 'payment bounced' } }), 201);
    expect(reversal).toMatchObject({ kind: 'reversal', amountFen: -800_000, reversesEntryId: drawdown.id });
    expect((await call(app, 'POST', `/v1/credit-lines/${w.line.id}/journal/${drawdown.id}/reverse`, { key: w.credit.key, body: { reason: 'again' } })).status).toBe(409);
    expect(await ok(call(app, 'GET', `/v1/financing-requests/${q.id}`, { key: w.credit.key }))).toMatchObject({ status: 'approved', valueDate: null });
    expect(await ok(call(app, 'GET', `/v1/credit-lines/${w.line.id}`, { key: w.credit.key }))).toMatchObject({ outstandingFen: 0, drawnFen: 0, reservedFen: 800_000 });
    const { database } = await services();
    await expect(database.sql`update credit_line_journal set amount_fen = 1 where id = ${drawdown.id}`).rejects.toThrow(/append-only/);
    await expect(database.sql`delete from credit_line_journal where id = ${drawdown.id}`).rejects.toThrow(/append-only/);
  });

  it('the daily sweep marks a request overdue after maturity + grace days, once', async () => {
    const w = await financingWorld(app, f);
    const inv = await confirmedInvoice(app, w, 1_000_000, '2026-12-01');
    const q = await ok(call(app, 'POST', '/v1/financing-requests', { key: w.supplier.key, body: { creditLineId: w.line.id, invoiceIds: [inv.id] } }), 201);
    await ok(call(app, 'POST', `/v1/financing-requests/${q.id}/submit`, { key: w.supplier.key }));
    await ok(call(app, 'POST', `/v1/financing-requests/${q.id}/approve`, { key: w.credit.key, body: {} }));
    const d = await ok(call(app, 'POST', `/v1/financing-requests/${q.id}/disburse`, { key: w.credit.key, body: { reference: 'T' } }));
    expect(d.maturityDate).toBe('2026-12-01');
    const { runDailyFinancingSweep } = await import('../../src/modules/financing/financing-requests');
    const { systemCtx } = await import('../support/harness');
    const { database } = await services();
    const ctx = systemCtx(database, clock);
    await runDailyFinancingSweep({ ctx, input: { asOf: '2026-12-04' } }); // maturity + 3 grace days: not yet
    expect((await ok(call(app, 'GET', `/v1/financing-requests/${q.id}`, { key: w.credit.key }))).status).toBe('disbursed');
    await runDailyFinancingSweep({ ctx, input: { asOf: '2026-12-05' } });
    expect((await ok(call(app, 'GET', `/v1/financing-requests/${q.id}`, { key: w.credit.key }))).status).toBe('overdue');
    await runDailyFinancingSweep({ ctx, input: { asOf: '2026-12-05' } });
    const audits = await database.sql`select 1 from audit_events where subject_id = ${q.id} and action = 'financing.overdue'`;
    expect(audits).toHaveLength(1);
    // A repayment of an overdue request still closes it.
    await ok(call(app, 'POST', `/v1/financing-requests/${q.id}/repayments`, { key: w.credit.key, body: { amountFen: 800_000, reference: 'late' } }));
    expect((await ok(call(app, 'GET', `/v1/financing-requests/${q.id}`, { key: w.credit.key }))).status).toBe('repaid');
  });
});
