import type { creditLineJournal, creditLines, invoices, ledgerEntries, programs } from '../../db/schema';
import { toApiFen, type Fen } from '../../lib/money';

export const toProgram = (p: typeof programs.$inferSelect) => ({
  id: p.id,
  bankOrganizationId: p.bankOrganizationId,
  coreEnterpriseOrganizationId: p.coreEnterpriseOrganizationId,
  name: p.name,
  limitFen: toApiFen(p.limitFen),
  outstandingFen: toApiFen(p.outstandingFen),
  advanceRateBp: p.advanceRateBp,
  maxTenorDays: p.maxTenorDays,
  annualRateBp: p.annualRateBp,
  dayCount: p.dayCount,
  graceDays: p.graceDays,
  autoApprovalThresholdFen: toApiFen(p.autoApprovalThresholdFen),
  status: p.status,
  createdAt: p.createdAt.toISOString(),
});

export const toCreditLine = (l: typeof creditLines.$inferSelect, reserved: Fen, available: Fen) => ({
  id: l.id,
  programId: l.programId,
  bankOrganizationId: l.bankOrganizationId,
  supplierOrganizationId: l.supplierOrganizationId,
  limitFen: toApiFen(l.limitFen),
  outstandingFen: toApiFen(l.outstandingFen),
  drawnFen: toApiFen(l.drawnFen),
  reservedFen: toApiFen(reserved),
  availableFen: toApiFen(available),
  expiresOn: l.expiresOn,
  revolving: l.revolving,
  status: l.status,
  frozenReason: l.frozenReason,
  createdAt: l.createdAt.toISOString(),
});

export const toJournalEntry = (j: typeof creditLineJournal.$inferSelect) => ({
  id: j.id,
  creditLineId: j.creditLineId,
  kind: j.kind,
  amountFen: toApiFen(j.amountFen),
  financingRequestId: j.financingRequestId,
  reversesEntryId: j.reversesEntryId,
  reference: j.reference,
  valueDate: j.valueDate,
  createdAt: j.createdAt.toISOString(),
  createdBy: j.createdBy,
});

/** What of an invoice can still be financed: nothing while disputed or cancelled. */
export function financeableFaceFen(i: typeof invoices.$inferSelect): Fen {
  if (i.ledgerStatus === 'disputed' || i.ledgerStatus === 'cancelled') return 0n;
  const left = i.amountFen - i.creditNoteFen - i.paidFen;
  return left > 0n ? left : 0n;
}

export const toInvoice = (i: typeof invoices.$inferSelect, financing: 'none' | 'under_financing' | 'financed') => ({
  id: i.id,
  supplierOrganizationId: i.supplierOrganizationId,
  buyerOrganizationId: i.buyerOrganizationId,
  invoiceCode: i.invoiceCode,
  invoiceNumber: i.invoiceNumber,
  issueDate: i.issueDate,
  dueDate: i.dueDate,
  amountFen: toApiFen(i.amountFen),
  currency: i.currency,
  confirmationStatus: i.confirmationStatus,
  confirmationReason: i.confirmationReason,
  confirmedVia: i.confirmedVia,
  creditNoteFen: toApiFen(i.creditNoteFen),
  paidFen: toApiFen(i.paidFen),
  financeableFaceFen: toApiFen(financeableFaceFen(i)),
  ledgerStatus: i.ledgerStatus,
  financing,
  createdAt: i.createdAt.toISOString(),
});

export const toLedgerEntry = (e: typeof ledgerEntries.$inferSelect) => ({
  id: e.id,
  entryId: e.externalId,
  version: e.version,
  current: e.current,
  supplierCreditCode: e.supplierCreditCode,
  invoiceNumber: e.invoiceNumber,
  amountFen: toApiFen(e.amountFen),
  dueDate: e.dueDate,
  status: e.status,
  creditNoteFen: toApiFen(e.creditNoteFen),
  paidFen: toApiFen(e.paidFen),
  creditNotes: e.creditNotes,
  payments: e.payments,
  source: e.source,
  receivedAt: e.receivedAt.toISOString(),
});
