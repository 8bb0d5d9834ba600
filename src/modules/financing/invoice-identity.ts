import { createHash } from 'node:crypto';
import { normalizeCreditCode } from '../../lib/credit-code';

/** Full-width → half-width, spaces removed: how numbers are typed is not what they are. */
export function normalizeInvoiceText(raw: string): string {
  return raw.replace(/[\uFF01-\uFF5E]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) - 0xfee0)).replace(/[\s\u3000]/g, '').toUpperCase();
}

/**
 * The 重复融资 key: normalized seller credit code, invoice code and number (a fully digital
 * invoice has no code; its 20-digit number stands alone), and amount in fen.
 */
export function invoiceFingerprint(parts: { sellerCreditCode: string; invoiceCode: string; invoiceNumber: string; amountFen: bigint }): string {
  const canonical = [normalizeCreditCode(parts.sellerCreditCode), normalizeInvoiceText(parts.invoiceCode), normalizeInvoiceText(parts.invoiceNumber), parts.amountFen.toString()].join('|');
  return createHash('sha256').update(canonical).digest('hex');
}

/** Returns a problem sentence or null: paper invoices have a 10/12-digit code and 8-digit number; 数电票 a 20-digit number. */
export function invoiceNumberProblem(invoiceCode: string, invoiceNumber: string): { path: string; message: string } | null {
  if (invoiceCode === '') {
    return /^\d{20}$/.test(invoiceNumber) ? null : { path: 'invoiceNumber', message: 'a fully digital invoice (数电票, no invoice code) has a 20-digit number' };
  }
  if (!/^\d{10}(\d{2})?$/.test(invoiceCode)) return { path: 'invoiceCode', message: 'an invoice code has 10 or 12 digits' };
  if (!/^\d{8}$/.test(invoiceNumber)) return { path: 'invoiceNumber', message: 'a paper or electronic invoice with a code has an 8-digit number' };
  return null;
}
