import { describe, expect, it } from 'vitest';
import type { invoices, ledgerEntries } from '../../src/db/schema';
import { confirmationFor } from '../../src/modules/financing/matching';

type Invoice = typeof invoices.$inferSelect;
type LedgerEntry = typeof ledgerEntries.$inferSelect;

const SUPPLIER_CODE = '91350100M000100Y43';
const AT = new Date('2026-03-02T02:00:00Z');

const invoice = (overrides: Partial<Invoice> = {}): Invoice => ({
  id: '00000000-0000-4000-8000-000000000001',
  supplierOrganizationId: '00000000-0000-4000-8000-0000000000a1',
  buyerOrganizationId: '00000000-0000-4000-8000-0000000000b1',
  invoiceCode: '',
  invoiceNumber: '24312000000012345678',
  issueDate: '2026-02-01',
  dueDate: '2026-05-01',
  amountFen: 1_234_567n, // ¥12,345.67
  currency: 'CNY',
  fingerprint: 'f'.repeat(64),
  confirmationStatus: 'unconfirmed',
  confirmationReason: null,
  confirmedVia: null,
  ledgerEntryId: null,
  creditNoteFen: 0n,
  paidFen: 0n,
  ledgerStatus: null,
  createdAt: AT,
  updatedAt: AT,
  ...overrides,
});

const entry = (overrides: Partial<LedgerEntry> = {}): LedgerEntry => ({
  invoiceCode: '',
  id: '00000000-0000-4000-8000-0000000000e1',
  coreEnterpriseOrganizationId: '00000000-0000-4000-8000-0000000000b1',
  externalId: 'AP-2026-0001',
  version: 1,
  current: true,
  supplierCreditCode: SUPPLIER_CODE,
  invoiceNumber: '24312000000012345678',
  amountFen: 1_234_567n,
  dueDate: '2026-05-01',
  status: 'open',
  creditNotes: [],
  payments: [],
  creditNoteFen: 0n,
  paidFen: 0n,
  contentHash: 'c'.repeat(64),
  source: 'json',
  receivedAt: AT,
  ...overrides,
});

describe('confirmationFor (确权 against the core enterprise’s ledger)', () => {
  it('with no ledger entry, the invoice is unconfirmed and says why', () => {
    const c = confirmationFor(invoice(), []);
    expect(c).toEqual({
      confirmationStatus: 'unconfirmed',
      confirmationReason: 'no entry in the core enterprise’s ledger matches this supplier and invoice number',
      confirmedVia: null,
      ledgerEntryId: null,
      creditNoteFen: 0n,
      paidFen: 0n,
      ledgerStatus: null,
    });
  });

  it('a ledger confirmation is withdrawn when the entry disappears', () => {
    const c = confirmationFor(invoice({ confirmationStatus: 'confirmed', confirmedVia: 'ledger', ledgerEntryId: entry().id }), []);
    expect(c.confirmationStatus).toBe('unconfirmed');
    expect(c.confirmedVia).toBeNull();
    expect(c.ledgerEntryId).toBeNull();
  });

  it('an explicit confirmation by the core enterprise stands without a ledger entry', () => {
    const c = confirmationFor(invoice({ confirmationStatus: 'confirmed', confirmedVia: 'explicit', creditNoteFen: 5n, paidFen: 7n }), []);
    expect(c).toEqual({ confirmationStatus: 'confirmed', confirmationReason: null, confirmedVia: 'explicit', ledgerEntryId: null, creditNoteFen: 0n, paidFen: 0n, ledgerStatus: null });
  });

  it('two current entries for one invoice number are a mismatch naming both', () => {
    const c = confirmationFor(invoice(), [entry({ externalId: 'AP-1' }), entry({ id: '00000000-0000-4000-8000-0000000000e2', externalId: 'AP-2' })]);
    expect(c.confirmationStatus).toBe('mismatch');
    expect(c.confirmationReason).toBe('2 ledger entries (AP-1, AP-2) match this invoice number; the core enterprise must resolve the duplicate');
    expect(c.confirmedVia).toBeNull();
    expect(c.ledgerEntryId).toBeNull();
  });

  it('an entry cancelled in the ledger is a mismatch, even for an invoice confirmed before', () => {
    const c = confirmationFor(invoice({ confirmationStatus: 'confirmed', confirmedVia: 'ledger' }), [entry({ status: 'cancelled' })]);
    expect(c.confirmationStatus).toBe('mismatch');
    expect(c.confirmationReason).toBe('cancelled in the ledger (entry AP-2026-0001)');
    expect(c.confirmedVia).toBeNull();
    expect(c.ledgerStatus).toBe('cancelled');
    expect(c.ledgerEntryId).toBe(entry().id);
  });

  it('an entry disputed in the ledger is a mismatch, overriding an explicit confirmation', () => {
    const c = confirmationFor(invoice({ confirmationStatus: 'confirmed', confirmedVia: 'explicit' }), [entry({ status: 'disputed' })]);
    expect(c.confirmationStatus).toBe('mismatch');
    expect(c.confirmationReason).toBe('disputed in the ledger (entry AP-2026-0001)');
    expect(c.confirmedVia).toBeNull();
    expect(c.ledgerStatus).toBe('disputed');
  });

  it('another amount in the ledger is a mismatch that says by how much', () => {
    const c = confirmationFor(invoice({ amountFen: 1_234_567n }), [entry({ amountFen: 1_200_000n })]);
    expect(c.confirmationStatus).toBe('mismatch');
    expect(c.confirmationReason).toBe('amount differs by ¥345.67: ledger ¥12,000.00, invoice ¥12,345.67');
    expect(c.confirmedVia).toBeNull();
  });

  it('the difference is stated as a positive amount when the ledger says more', () => {
    const c = confirmationFor(invoice({ amountFen: 1_234_567n }), [entry({ amountFen: 1_234_667n })]);
    expect(c.confirmationReason).toBe('amount differs by ¥1.00: ledger ¥12,346.67, invoice ¥12,345.67');
  });

  it('a matching entry confirms via the ledger and carries its credit notes and payments', () => {
    const e = entry({ status: 'partially_paid', creditNoteFen: 34_567n, paidFen: 200_000n });
    const c = confirmationFor(invoice(), [e]);
    expect(c).toEqual({
      confirmationStatus: 'confirmed',
      confirmationReason: null,
      confirmedVia: 'ledger',
      ledgerEntryId: e.id,
      creditNoteFen: 34_567n,
      paidFen: 200_000n,
      ledgerStatus: 'partially_paid',
    });
  });

  it('a mismatch heals when the ledger is corrected', () => {
    const stale = invoice({ confirmationStatus: 'mismatch', confirmationReason: 'amount differs by ¥1.00: …' });
    const c = confirmationFor(stale, [entry()]);
    expect(c.confirmationStatus).toBe('confirmed');
    expect(c.confirmationReason).toBeNull();
  });

  it('an explicit rejection by the core enterprise persists even when the ledger matches', () => {
    const rejected = invoice({ confirmationStatus: 'rejected', confirmationReason: 'goods returned, not owed', confirmedVia: 'explicit' });
    const e = entry({ paidFen: 100n });
    const c = confirmationFor(rejected, [e]);
    expect(c.confirmationStatus).toBe('rejected');
    expect(c.confirmationReason).toBe('goods returned, not owed');
    expect(c.confirmedVia).toBe('explicit');
    // the ledger's facts are still recorded
    expect(c.ledgerEntryId).toBe(e.id);
    expect(c.paidFen).toBe(100n);
  });

  it('an explicit rejection persists with no ledger entry', () => {
    const rejected = invoice({ confirmationStatus: 'rejected', confirmationReason: 'not our supplier', confirmedVia: 'explicit' });
    const c = confirmationFor(rejected, []);
    expect(c.confirmationStatus).toBe('rejected');
    expect(c.confirmationReason).toBe('not our supplier');
  });

  it('an explicit rejection persists when two ledger entries match, and after the duplicate is resolved', () => {
    const rejected = invoice({ confirmationStatus: 'rejected', confirmedVia: 'explicit', confirmationReason: 'rejected by the core enterprise: not delivered' });
    const both = confirmationFor(rejected, [entry({ externalId: 'AP-1' }), entry({ id: '00000000-0000-4000-8000-0000000000b2', externalId: 'AP-2' })]);
    expect(both).toMatchObject({ confirmationStatus: 'rejected', confirmedVia: 'explicit' });
    expect(confirmationFor({ ...rejected, ...both }, [entry({ externalId: 'AP-1' })])).toMatchObject({ confirmationStatus: 'rejected', confirmedVia: 'explicit' });
  });
});
