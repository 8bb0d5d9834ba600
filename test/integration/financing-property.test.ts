import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/lib/clock';
import { call, factories, services, testApp } from '../support/harness';
import { confirmedInvoice, financingWorld, ok, type World } from '../support/financing';

const clock = fixedClock('2026-11-22T02:00:00Z');
let app: Awaited<ReturnType<typeof testApp>>['app'];
let f: Awaited<ReturnType<typeof factories>>;

beforeAll(async () => {
  ({ app } = await testApp({ clock }));
  f = await factories();
});

type Op =
  | { kind: 'draw'; faces: number[] }
  | { kind: 'repay'; pick: number; share: number }
  | { kind: 'reverse'; pick: number }
  | { kind: 'refinance'; pick: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  // Several requests racing through quote → submit → approve → disburse at once.
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('draw' as const), faces: fc.array(fc.integer({ min: 1, max: 4_000_000 }), { minLength: 1, maxLength: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('repay' as const), pick: fc.nat(), share: fc.integer({ min: 1, max: 100 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reverse' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('refinance' as const), pick: fc.nat() }) },
);

async function run(w: World, o: Op, financed: { requestId: string; invoiceId: string }[]) {
  const { supplier, credit, line } = w;
  if (o.kind === 'draw') {
    const invoices = await Promise.all(o.faces.map((face) => confirmedInvoice(app, w, face)));
    await Promise.all(
      invoices.map(async (inv) => {
        const quote = await call(app, 'POST', '/v1/financing-requests', { key: supplier.key, body: { creditLineId: line.id, invoiceIds: [inv.id] } });
        if (quote.status !== 201) return expect(quote.status).toBe(409); // nothing left on the line
        const submit = await call(app, 'POST', `/v1/financing-requests/${quote.body.id}/submit`, { key: supplier.key });
        if (submit.status !== 200) return expect(submit.status).toBe(409);
        financed.push({ requestId: quote.body.id, invoiceId: inv.id });
        const approve = await call(app, 'POST', `/v1/financing-requests/${quote.body.id}/approve`, { key: credit.key, body: {} });
        if (approve.status !== 200) return expect(approve.status).toBe(409);
        const disburse = await call(app, 'POST', `/v1/financing-requests/${quote.body.id}/disburse`, { key: credit.key, body: { reference: `P-${quote.body.id.slice(0, 8)}` } });
        return expect(disburse.status).toBe(200);
      }),
    );
  } else if (o.kind === 'repay') {
    const open = (await ok(call(app, 'GET', '/v1/financing-requests?status=disbursed&limit=200', { key: credit.key }))).items.filter((r: { creditLineId: string }) => r.creditLineId === line.id);
    if (open.length === 0) return;
    const r = open[o.pick % open.length];
    const amount = Math.max(1, Math.floor((r.outstandingFen * o.share) / 100));
    await ok(call(app, 'POST', `/v1/financing-requests/${r.id}/repayments`, { key: credit.key, body: { amountFen: amount, reference: `R-${o.pick}` } }));
  } else if (o.kind === 'reverse') {
    const journal = (await ok(call(app, 'GET', `/v1/credit-lines/${line.id}/journal?limit=200`, { key: credit.key }))).items;
    const reversed = new Set(journal.map((j: { reversesEntryId: string | null }) => j.reversesEntryId));
    const candidates = journal.filter((j: { kind: string; id: string }) => j.kind !== 'reversal' && !reversed.has(j.id));
    if (candidates.length === 0) return;
    const entry = candidates[o.pick % candidates.length];
    const res = await call(app, 'POST', `/v1/credit-lines/${line.id}/journal/${entry.id}/reverse`, { key: credit.key, body: { reason: 'property test' } });
    // A disbursement with repayments on it must have those reversed first.
    expect([201, 409]).toContain(res.status);
  } else if (financed.length) {
    const { invoiceId } = financed[o.pick % financed.length]!;
    const res = await call(app, 'POST', '/v1/financing-requests', { key: supplier.key, body: { creditLineId: line.id, invoiceIds: [invoiceId] } });
    // The invoice is held by a request (or no longer confirmed-and-financeable): never a second quote.
    expect(res.status).not.toBe(201);
  }
}

async function checkInvariants(w: World) {
  const { database } = await services();
  const [line] = await database.sql<{ outstanding: string; drawn: string; limit: string; journal: string; open_principal: string }[]>`
    select l.outstanding_fen::text as outstanding, l.drawn_fen::text as drawn, l.limit_fen::text as limit,
      (select coalesce(sum(amount_fen), 0) from credit_line_journal j where j.credit_line_id = l.id)::text as journal,
      (select coalesce(sum(principal_fen - repaid_fen), 0) from financing_requests r where r.credit_line_id = l.id and r.status in ('disbursed', 'overdue'))::text as open_principal
    from credit_lines l where l.id = ${w.line.id}`;
  const outstanding = BigInt(line!.outstanding);
  expect(line!.outstanding).toBe(line!.journal); // cached = Σ journal
  expect(outstanding >= 0n && outstanding <= BigInt(line!.limit)).toBe(true);
  if (!w.line.revolving) expect(BigInt(line!.drawn) <= BigInt(line!.limit)).toBe(true); // a non-revolving line never draws past its limit in total
  expect(line!.outstanding).toBe(line!.open_principal); // every fen outstanding belongs to a disbursed request
  const doubles = await database.sql`select fingerprint from financed_invoices where active group by fingerprint having count(*) > 1`;
  expect(doubles).toEqual([]);
}

describe('credit line invariants under random drawdowns, repayments, reversals and refinancing attempts', () => {
  it('outstanding = Σ journal, 0 ≤ outstanding ≤ limit, no invoice financed twice — after every step', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 500_000, max: 8_000_000 }), fc.boolean(), fc.array(op, { minLength: 1, maxLength: 7 }), async (limit, revolving, ops) => {
        const w = await financingWorld(app, f, { lineLimitFen: limit, revolving });
        const financed: { requestId: string; invoiceId: string }[] = [];
        for (const o of ops) {
          await run(w, o, financed);
          await checkInvariants(w);
        }
      }),
      { numRuns: 12, endOnFailure: true },
    );
  }, 240_000);
});
