import { AppError } from '../../lib/errors';
import type { financingStatus } from '../../db/schema';

export type FinancingStatus = (typeof financingStatus.enumValues)[number];

/** Every legal move of a financing request; anything else is a 409 naming the current state. */
export const financingTransitions: Record<FinancingStatus, readonly FinancingStatus[]> = {
  quoted: ['submitted', 'expired'],
  submitted: ['approved', 'rejected', 'cancelled'],
  // Cancelled when the money will not go out after all (supplier withdrew, line frozen for good).
  approved: ['disbursed', 'cancelled'],
  rejected: [],
  // A reversed disbursement returns the request to approved.
  disbursed: ['repaid', 'overdue', 'approved'],
  overdue: ['repaid', 'approved'],
  // A reversed repayment reopens it.
  repaid: ['disbursed', 'overdue'],
  expired: [],
  cancelled: [],
};

export function assertTransition(from: FinancingStatus, to: FinancingStatus, what = 'financing request'): void {
  if (!financingTransitions[from].includes(to)) {
    throw new AppError('conflict', `The ${what} is ${from}; it cannot become ${to}`, { extra: { currentStatus: from, requestedStatus: to } });
  }
}

/** Requests that hold their invoices' fingerprints (under financing or financed). */
export const holdingStatuses: readonly FinancingStatus[] = ['submitted', 'approved', 'disbursed', 'overdue', 'repaid'];
