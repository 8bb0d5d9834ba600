import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/lib/errors';
import { assertTransition, financingTransitions, type FinancingStatus } from '../../src/modules/financing/transitions';

const ALL: FinancingStatus[] = ['quoted', 'submitted', 'approved', 'rejected', 'disbursed', 'overdue', 'repaid', 'expired', 'cancelled'];

/** The life of a financing request, written out independently of the table under test. */
const LEGAL: [FinancingStatus, FinancingStatus][] = [
  ['quoted', 'submitted'],
  ['quoted', 'expired'],
  ['submitted', 'approved'],
  ['submitted', 'rejected'],
  ['submitted', 'cancelled'], // withdrawn by the supplier or the bank
  ['approved', 'disbursed'],
  ['approved', 'cancelled'], // the money will not go out
  ['disbursed', 'repaid'],
  ['disbursed', 'overdue'],
  ['disbursed', 'approved'], // disbursement reversed
  ['overdue', 'repaid'],
  ['overdue', 'approved'], // disbursement reversed
  ['repaid', 'disbursed'], // repayment reversed
  ['repaid', 'overdue'], // repayment reversed after the due date
];
const isLegal = (from: FinancingStatus, to: FinancingStatus) => LEGAL.some(([f, t]) => f === from && t === to);

const caught = (fn: () => void): unknown => {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
};

describe('financing request transitions', () => {
  it.each(LEGAL)('allows %s → %s', (from, to) => {
    expect(() => assertTransition(from, to)).not.toThrow();
  });

  it('the table lists exactly these moves', () => {
    const listed = ALL.flatMap((from) => financingTransitions[from].map((to) => [from, to]));
    expect(listed.sort()).toEqual([...LEGAL].sort());
  });

  it('rejected and expired are final', () => {
    for (const to of ALL) {
      expect(() => assertTransition('rejected', to)).toThrow(AppError);
      expect(() => assertTransition('expired', to)).toThrow(AppError);
    }
  });

  it('refuses skipping approval: submitted → disbursed is a conflict naming the current status', () => {
    const e = caught(() => assertTransition('submitted', 'disbursed'));
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe('conflict');
    expect((e as AppError).status).toBe(409);
    expect((e as AppError).extra).toEqual({ currentStatus: 'submitted', requestedStatus: 'disbursed' });
    expect((e as AppError).message).toBe('The financing request is submitted; it cannot become disbursed');
  });

  it('names the thing in the message when asked', () => {
    expect(() => assertTransition('repaid', 'repaid', 'repayment')).toThrow('The repayment is repaid; it cannot become repaid');
  });

  it('every other move, including staying put, is a conflict with extra.currentStatus', () => {
    let refused = 0;
    for (const from of ALL) {
      for (const to of ALL) {
        if (isLegal(from, to)) continue;
        const e = caught(() => assertTransition(from, to));
        expect(e, `${from} → ${to}`).toBeInstanceOf(AppError);
        expect((e as AppError).code).toBe('conflict');
        expect((e as AppError).extra?.currentStatus).toBe(from);
        refused++;
      }
    }
    expect(refused).toBe(ALL.length * ALL.length - LEGAL.length);
  });
});
