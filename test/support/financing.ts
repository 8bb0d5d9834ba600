import { randomBytes } from 'node:crypto';
import { call, factories, type TestResponse } from './harness';

type App = Parameters<typeof call>[0];
type Factories = Awaited<ReturnType<typeof factories>>;

export const uniqDigits = (n: number) => {
  let s = '';
  const bytes = randomBytes(n);
  for (let i = 0; i < n; i++) s += String(bytes[i]! % 10);
  return s;
};

/** Throws with the whole answer when a setup call does not give the expected status. */
export async function ok(res: Promise<TestResponse>, status = 200): Promise<any> {
  const r = await res;
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status}: ${r.text}`);
  return r.body;
}

/**
 * A bank with a program over a core enterprise, a supplier with a credit line, and keys for
 * the people involved — built through the API like a real onboarding.
 */
export async function financingWorld(app: App, f: Factories, options: { lineLimitFen?: number; programLimitFen?: number; revolving?: boolean; autoApprovalThresholdFen?: number; core?: { organizationId: string; key: string; creditCode: string }; supplier?: { organizationId: string; key: string; creditCode: string; userId: string } } = {}) {
  const admin = await f.actor('platform_admin');
  const credit = await f.actor('credit_officer');
  const risk = await f.actor('risk_officer', credit.organizationId);
  const core = options.core ?? (await (async () => {
    const a = await f.actor('core_enterprise_user');
    const org = await ok(call(app, 'GET', `/v1/organizations/${a.organizationId}`, { key: admin.key }));
    return { ...a, creditCode: org.creditCode as string };
  })());
  const supplier = options.supplier ?? (await (async () => {
    const a = await f.actor('supplier_user');
    const org = await ok(call(app, 'GET', `/v1/organizations/${a.organizationId}`, { key: admin.key }));
    return { ...a, creditCode: org.creditCode as string };
  })());
  const program = await ok(
    call(app, 'POST', '/v1/programs', {
      key: credit.key,
      body: {
        coreEnterpriseOrganizationId: core.organizationId,
        name: `1+N ${randomBytes(3).toString('hex')}`,
        limitFen: options.programLimitFen ?? 1_000_000_000,
        advanceRateBp: 8000,
        maxTenorDays: 90,
        annualRateBp: 450,
        dayCount: 'ACT/360',
        graceDays: 3,
        autoApprovalThresholdFen: options.autoApprovalThresholdFen ?? 0,
      },
    }),
    201,
  );
  const line = await ok(
    call(app, 'POST', `/v1/programs/${program.id}/credit-lines`, {
      key: credit.key,
      body: { supplierOrganizationId: supplier.organizationId, limitFen: options.lineLimitFen ?? 50_000_000, expiresOn: '2027-11-22', revolving: options.revolving ?? true },
    }),
    201,
  );
  return { admin, credit, risk, core, supplier, program, line };
}

export type World = Awaited<ReturnType<typeof financingWorld>>;

/** Registers a paper invoice and has the core enterprise's ledger confirm it. */
export async function confirmedInvoice(app: App, w: Pick<World, 'core' | 'supplier'>, amountFen: number, dueDate = '2027-01-20') {
  const number = uniqDigits(8);
  const invoice = await ok(
    call(app, 'POST', '/v1/invoices', { key: w.supplier.key, body: { buyerCreditCode: w.core.creditCode, invoiceCode: uniqDigits(10), invoiceNumber: number, issueDate: '2026-11-01', dueDate, amountFen } }),
    201,
  );
  await ok(
    call(app, 'POST', '/v1/ledger/entries', {
      key: w.core.key,
      body: { entries: [{ entryId: `AP-${number}`, supplierCreditCode: w.supplier.creditCode, invoiceNumber: number, amountFen, dueDate, status: 'open' }] },
    }),
  );
  return { ...invoice, entryId: `AP-${number}` };
}

/** Quote → submit → approve → disburse, answering the disbursed request. */
export async function financeThrough(app: App, w: World, invoiceIds: string[], reference = `TRX-${randomBytes(3).toString('hex')}`) {
  const quote = await ok(call(app, 'POST', '/v1/financing-requests', { key: w.supplier.key, body: { creditLineId: w.line.id, invoiceIds } }), 201);
  await ok(call(app, 'POST', `/v1/financing-requests/${quote.id}/submit`, { key: w.supplier.key }));
  await ok(call(app, 'POST', `/v1/financing-requests/${quote.id}/approve`, { key: w.credit.key, body: {} }));
  return ok(call(app, 'POST', `/v1/financing-requests/${quote.id}/disburse`, { key: w.credit.key, body: { reference } }));
}
