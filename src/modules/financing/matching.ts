import { and, eq, inArray, or, sql } from 'drizzle-orm';
import { financedInvoices, financingEvents, financingRequests, invoices, ledgerEntries, organizations } from '../../db/schema';
import type { DbOrTx } from '../../db/client';
import type { Ctx } from '../../lib/context';
import { formatYuan } from '../../lib/money';
import { holdingStatuses } from './transitions';
import { applyLedgerPayment } from './financing-requests';

type Invoice = typeof invoices.$inferSelect;
type LedgerEntry = typeof ledgerEntries.$inferSelect;

export interface Confirmation {
  confirmationStatus: Invoice['confirmationStatus'];
  confirmationReason: string | null;
  confirmedVia: Invoice['confirmedVia'];
  ledgerEntryId: string | null;
  creditNoteFen: bigint;
  paidFen: bigint;
  ledgerStatus: string | null;
}

/**
 * 确权: an invoice is confirmed when a current ledger entry of its buyer matches supplier,
 * number and amount. The ledger's facts (cancelled, disputed, another amount) override an
 * earlier confirmation; an explicit rejection by the core enterprise stands until it
 * confirms explicitly.
 */
export function confirmationFor(invoice: Invoice, entries: LedgerEntry[], invoicesSharingTheEntry = 1): Confirmation {
  const explicitRejection = invoice.confirmationStatus === 'rejected' && invoice.confirmedVia === 'explicit';
  if (entries.length === 0) {
    if (invoice.confirmedVia === 'explicit') {
      return { ...pick(invoice), ledgerEntryId: null, creditNoteFen: 0n, paidFen: 0n, ledgerStatus: null };
    }
    return { confirmationStatus: 'unconfirmed', confirmationReason: 'no entry in the core enterprise’s ledger matches this supplier and invoice number', confirmedVia: null, ledgerEntryId: null, creditNoteFen: 0n, paidFen: 0n, ledgerStatus: null };
  }
  if (explicitRejection && entries.length !== 1) return { ...pick(invoice), ledgerEntryId: null, creditNoteFen: 0n, paidFen: 0n, ledgerStatus: null };
  if (entries.length > 1) {
    return { confirmationStatus: 'mismatch', confirmationReason: `${entries.length} ledger entries (${entries.map((e) => e.externalId).join(', ')}) match this invoice number; the core enterprise must resolve the duplicate`, confirmedVia: null, ledgerEntryId: null, creditNoteFen: 0n, paidFen: 0n, ledgerStatus: null };
  }
  const entry = entries[0]!;
  const ledgerFacts = { ledgerEntryId: entry.id, creditNoteFen: entry.creditNoteFen, paidFen: entry.paidFen, ledgerStatus: entry.status };
  if (explicitRejection) return { ...pick(invoice), ...ledgerFacts };
  if (invoicesSharingTheEntry > 1) {
    // One payable confirms one receivable: otherwise a single debt could back two loans.
    return {
      confirmationStatus: 'mismatch',
      confirmationReason: `ledger entry ${entry.externalId} fits ${invoicesSharingTheEntry} invoices numbered ${entry.invoiceNumber}; the core enterprise must send the invoice code`,
      confirmedVia: null,
      ledgerEntryId: null,
      creditNoteFen: 0n,
      paidFen: 0n,
      ledgerStatus: null,
    };
  }
  if (entry.status === 'cancelled') return { confirmationStatus: 'mismatch', confirmationReason: `cancelled in the ledger (entry ${entry.externalId})`, confirmedVia: null, ...ledgerFacts };
  if (entry.status === 'disputed') return { confirmationStatus: 'mismatch', confirmationReason: `disputed in the ledger (entry ${entry.externalId})`, confirmedVia: null, ...ledgerFacts };
  if (entry.amountFen !== invoice.amountFen) {
    const diff = entry.amountFen - invoice.amountFen;
    return {
      confirmationStatus: 'mismatch',
      confirmationReason: `amount differs by ${formatYuan(diff < 0n ? -diff : diff)}: ledger ${formatYuan(entry.amountFen)}, invoice ${formatYuan(invoice.amountFen)}`,
      confirmedVia: null,
      ...ledgerFacts,
    };
  }
  return { confirmationStatus: 'confirmed', confirmationReason: null, confirmedVia: 'ledger', ...ledgerFacts };
}

const pick = (i: Invoice) => ({ confirmationStatus: i.confirmationStatus, confirmationReason: i.confirmationReason, confirmedVia: i.confirmedVia });

/** Current ledger entries of the invoice's buyer for its supplier and number. */
export async function ledgerEntriesFor(tx: DbOrTx, invoice: Invoice): Promise<LedgerEntry[]> {
  const [supplier] = await tx.select({ creditCode: organizations.creditCode }).from(organizations).where(eq(organizations.id, invoice.supplierOrganizationId));
  return tx
    .select()
    .from(ledgerEntries)
    .where(
      and(
        eq(ledgerEntries.coreEnterpriseOrganizationId, invoice.buyerOrganizationId),
        eq(ledgerEntries.supplierCreditCode, supplier?.creditCode ?? ''),
        eq(ledgerEntries.invoiceNumber, invoice.invoiceNumber),
        or(eq(ledgerEntries.invoiceCode, ''), eq(ledgerEntries.invoiceCode, invoice.invoiceCode)),
        eq(ledgerEntries.current, true),
      ),
    );
}

/** How many of the supplier's invoices to this buyer a ledger entry could stand for. */
async function invoicesFitting(tx: DbOrTx, invoice: Invoice, entry: LedgerEntry): Promise<number> {
  const [row] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(invoices)
    .where(
      and(
        eq(invoices.buyerOrganizationId, invoice.buyerOrganizationId),
        eq(invoices.supplierOrganizationId, invoice.supplierOrganizationId),
        eq(invoices.invoiceNumber, entry.invoiceNumber),
        entry.invoiceCode === '' ? undefined : eq(invoices.invoiceCode, entry.invoiceCode),
      ),
    );
  return row?.n ?? 1;
}

/**
 * Re-matches one invoice against the ledger and applies what follows: its confirmation,
 * repayments from new ledger payments on a financed invoice, and an event when a financed
 * invoice is cancelled or disputed (the warnings issue turns those into signals).
 * Returns whether the confirmation changed and how many repayments were applied.
 */
export async function rematchInvoice(tx: DbOrTx, ctx: Ctx, invoice: Invoice): Promise<{ changed: boolean; repayments: number }> {
  const entries = await ledgerEntriesFor(tx, invoice);
  const next = confirmationFor(invoice, entries, entries.length === 1 ? await invoicesFitting(tx, invoice, entries[0]!) : 1);
  const changed =
    next.confirmationStatus !== invoice.confirmationStatus ||
    next.confirmationReason !== invoice.confirmationReason ||
    next.paidFen !== invoice.paidFen ||
    next.creditNoteFen !== invoice.creditNoteFen ||
    next.ledgerStatus !== invoice.ledgerStatus;
  if (changed) await tx.update(invoices).set({ ...next, updatedAt: ctx.clock.now() }).where(eq(invoices.id, invoice.id));

  let repayments = 0;
  const held = await tx
    .select({ fi: financedInvoices, request: financingRequests })
    .from(financedInvoices)
    .innerJoin(financingRequests, eq(financingRequests.id, financedInvoices.financingRequestId))
    .where(and(eq(financedInvoices.invoiceId, invoice.id), eq(financedInvoices.active, true), inArray(financingRequests.status, [...holdingStatuses])));
  const entry = entries.length === 1 ? entries[0]! : null;
  for (const { fi, request } of held) {
    if (entry && (entry.status === 'cancelled' || entry.status === 'disputed')) {
      await tx
        .insert(financingEvents)
        .values({
          type: entry.status === 'cancelled' ? 'financed_invoice_cancelled' : 'financed_invoice_disputed',
          bankOrganizationId: request.bankOrganizationId,
          supplierOrganizationId: request.supplierOrganizationId,
          subjectType: 'invoice',
          subjectId: invoice.id,
          data: { financingRequestId: request.id, ledgerEntryId: entry.id, entryId: entry.externalId, version: entry.version, requestStatus: request.status },
          dedupeKey: `${entry.status}:${invoice.id}:${entry.id}`,
          occurredAt: ctx.clock.now(),
        })
        .onConflictDoNothing();
    }
    // The receivable shrank under a loan (credit note, changed amount, reversed payment): the bank must hear of it.
    const impaired =
      entry &&
      entry.status !== 'cancelled' &&
      entry.status !== 'disputed' &&
      ((invoice.confirmationStatus === 'confirmed' && next.confirmationStatus !== 'confirmed') || next.creditNoteFen > invoice.creditNoteFen || next.paidFen < invoice.paidFen);
    if (impaired) {
      await tx
        .insert(financingEvents)
        .values({
          type: 'financed_invoice_impaired',
          bankOrganizationId: request.bankOrganizationId,
          supplierOrganizationId: request.supplierOrganizationId,
          subjectType: 'invoice',
          subjectId: invoice.id,
          data: {
            financingRequestId: request.id,
            ledgerEntryId: entry.id,
            entryId: entry.externalId,
            version: entry.version,
            confirmation: next.confirmationStatus,
            reason: next.confirmationReason,
            creditNoteFen: { before: String(invoice.creditNoteFen), after: String(next.creditNoteFen) },
            paidFen: { before: String(invoice.paidFen), after: String(next.paidFen) },
          },
          dedupeKey: `impaired:${invoice.id}:${entry.id}`,
          occurredAt: ctx.clock.now(),
        })
        .onConflictDoNothing();
    }
    if (entry && (request.status === 'disbursed' || request.status === 'overdue') && entry.paidFen > fi.repaidFromLedgerFen) {
      if (await applyLedgerPayment(tx, ctx, { financedInvoice: fi, ledgerPaidFen: entry.paidFen, reference: `ledger ${entry.externalId} v${entry.version}` })) repayments++;
    }
  }
  return { changed, repayments };
}
