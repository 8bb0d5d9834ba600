import { addDays, daysBetween } from '../../lib/clock';
import { basisPointsOf, type DayCount, type Fen, minFen, simpleInterest, sumFen } from '../../lib/money';

export interface QuotedInvoice {
  invoiceId: string;
  amountFen: Fen;
  creditNoteFen: Fen;
  paidFen: Fen;
  dueDate: string;
}

export interface QuoteTerms {
  advanceRateBp: number;
  annualRateBp: number;
  dayCount: DayCount;
  maxTenorDays: number;
  lineAvailableFen: Fen;
  programRemainingFen: Fen;
  /** Business date the money would go out (T). */
  today: string;
}

export interface Quote {
  invoices: { invoiceId: string; outstandingFaceFen: Fen; advanceFen: Fen; dueDate: string }[];
  faceValueFen: Fen;
  advanceFen: Fen;
  principalFen: Fen;
  cappedBy: 'advance_rate' | 'line_available' | 'program_remaining';
  daysToEarliestDue: number;
  tenorDays: number;
  interestFen: Fen;
  maturityDate: string;
}

/**
 * Pure quote arithmetic (so it is tested without a database):
 * principal = min(Σ outstanding face × advance rate, line available, program remaining);
 * tenor = days to the earliest due date, capped by the maximum tenor;
 * interest = principal × rate × days / basis, exact in BigInt and rounded once, half-up.
 */
export function computeQuote(invoices: QuotedInvoice[], terms: QuoteTerms): Quote {
  const faces = invoices.map((i) => ({ invoiceId: i.invoiceId, outstandingFaceFen: i.amountFen - i.creditNoteFen - i.paidFen, dueDate: i.dueDate }));
  const faceValueFen = sumFen(faces.map((l) => l.outstandingFaceFen));
  const advanceFen = basisPointsOf(faceValueFen, terms.advanceRateBp);
  const principalFen = minFen(advanceFen, terms.lineAvailableFen, terms.programRemainingFen);
  // Each invoice carries its share of the principal, pro rata to face and rounded down; the
  // fen left over go to the largest invoices, never past an invoice's own face, so the parts add up.
  const lines = faces.map((l) => ({ ...l, advanceFen: faceValueFen > 0n ? (principalFen * l.outstandingFaceFen) / faceValueFen : 0n }));
  let leftover = principalFen - sumFen(lines.map((l) => l.advanceFen));
  for (const l of [...lines].sort((a, b) => (b.outstandingFaceFen > a.outstandingFaceFen ? 1 : b.outstandingFaceFen < a.outstandingFaceFen ? -1 : 0))) {
    if (leftover <= 0n) break;
    const add = minFen(leftover, l.outstandingFaceFen - l.advanceFen);
    l.advanceFen += add;
    leftover -= add;
  }
  const cappedBy = principalFen === advanceFen ? 'advance_rate' : principalFen === terms.lineAvailableFen ? 'line_available' : 'program_remaining';
  const earliestDue = lines.map((l) => l.dueDate).sort()[0] ?? terms.today;
  const daysToEarliestDue = daysBetween(terms.today, earliestDue);
  const tenorDays = Math.min(daysToEarliestDue, terms.maxTenorDays);
  const interestFen = principalFen > 0n && tenorDays > 0 ? simpleInterest(principalFen, terms.annualRateBp, tenorDays, terms.dayCount) : 0n;
  return { invoices: lines, faceValueFen, advanceFen, principalFen, cappedBy, daysToEarliestDue, tenorDays, interestFen, maturityDate: addDays(terms.today, tenorDays) };
}
