import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { basisPointsOf, divRoundHalfUp, fen, formatYuan, simpleInterest, type DayCount } from '../../src/lib/money';

/** Independent oracle: n / d rounded half-up for n ≥ 0, d > 0, as floor((2n + d) / 2d). */
const exactHalfUp = (n: bigint, d: bigint): bigint => (2n * n + d) / (2n * d);

describe('divRoundHalfUp', () => {
  it('rounds below .5 down and above .5 up', () => {
    expect(divRoundHalfUp(14n, 10n)).toBe(1n); // 1.4
    expect(divRoundHalfUp(16n, 10n)).toBe(2n); // 1.6
    expect(divRoundHalfUp(1n, 3n)).toBe(0n); // 0.333…
    expect(divRoundHalfUp(2n, 3n)).toBe(1n); // 0.666…
  });

  it('rounds an exact .5 up (away from zero)', () => {
    expect(divRoundHalfUp(5n, 10n)).toBe(1n); // 0.5
    expect(divRoundHalfUp(15n, 10n)).toBe(2n); // 1.5
    expect(divRoundHalfUp(25n, 10n)).toBe(3n); // 2.5 — half-up, not banker's rounding (which gives 2)
    expect(divRoundHalfUp(1n, 2n)).toBe(1n);
    expect(divRoundHalfUp(7n, 2n)).toBe(4n);
  });

  it('leaves exact quotients alone', () => {
    expect(divRoundHalfUp(0n, 7n)).toBe(0n);
    expect(divRoundHalfUp(30n, 10n)).toBe(3n);
    expect(divRoundHalfUp(123_456_789n, 1n)).toBe(123_456_789n);
  });

  it('rounds negatives symmetrically: an exact −.5 goes away from zero', () => {
    expect(divRoundHalfUp(-5n, 10n)).toBe(-1n); // −0.5
    expect(divRoundHalfUp(-25n, 10n)).toBe(-3n); // −2.5
    expect(divRoundHalfUp(-14n, 10n)).toBe(-1n); // −1.4
    expect(divRoundHalfUp(-16n, 10n)).toBe(-2n); // −1.6
  });

  it('refuses a zero or negative divisor', () => {
    expect(() => divRoundHalfUp(1n, 0n)).toThrow(RangeError);
    expect(() => divRoundHalfUp(1n, -2n)).toThrow(RangeError);
  });

  it('property: the result is within half a unit of the exact quotient, and a tie rounds away from zero', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 24n), max: 10n ** 24n }), fc.bigInt({ min: 1n, max: 10n ** 12n }), (n, d) => {
        const q = divRoundHalfUp(n, d);
        const error = q * d - n; // (q − n/d) scaled by d
        expect(2n * (error < 0n ? -error : error) <= d).toBe(true);
        if (2n * (error < 0n ? -error : error) === d) {
          // exactly halfway: the rounded value is farther from zero than the exact one
          expect(q < 0n ? -q * d > -n : q * d > n).toBe(true);
        }
        expect(divRoundHalfUp(-n, d)).toBe(-q);
      }),
    );
  });
});

describe('basisPointsOf (an advance never exceeds its rate)', () => {
  it('takes a share in basis points', () => {
    expect(basisPointsOf(1_000_000n, 8_000)).toBe(800_000n); // 80 % of ¥10,000
    expect(basisPointsOf(1_000_000n, 10_000)).toBe(1_000_000n);
    expect(basisPointsOf(1_000_000n, 0)).toBe(0n);
  });

  it('rounds down, even past .5', () => {
    expect(basisPointsOf(999n, 8_000)).toBe(799n); // 799.2
    expect(basisPointsOf(1n, 5_000)).toBe(0n); // 0.5 → 0, not 1
    expect(basisPointsOf(3n, 9_999)).toBe(2n); // 2.9997
  });

  it('property: never more than the exact share, and less by under one fen', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n }), fc.integer({ min: 0, max: 10_000 }), (amount, bp) => {
        const share = basisPointsOf(amount, bp);
        expect(share * 10_000n <= amount * BigInt(bp)).toBe(true);
        expect((share + 1n) * 10_000n > amount * BigInt(bp)).toBe(true);
      }),
    );
  });
});

describe('simpleInterest = principal × rate × days / basis, rounded once half-up', () => {
  it('worked example: ¥142,765.42 at 450 bp for 59 days, ACT/360 → ¥1,052.89', () => {
    // 14 276 542 × 450 × 59 / 3 600 000 = 105 289.497… → 105 289 fen
    expect(simpleInterest(14_276_542n, 450, 59, 'ACT/360')).toBe(105_289n);
  });

  it('the same loan under ACT/365 costs less', () => {
    // 14 276 542 × 450 × 59 / 3 650 000 = 103 847.19… → 103 847 fen
    expect(simpleInterest(14_276_542n, 450, 59, 'ACT/365')).toBe(103_847n);
  });

  it('a full year at 10 % is 10 % under ACT/365 and 365/360 of it under ACT/360', () => {
    expect(simpleInterest(1_000_000n, 1_000, 365, 'ACT/365')).toBe(100_000n);
    // 1 000 000 × 1000 × 365 / 3 600 000 = 101 388.88… → 101 389
    expect(simpleInterest(1_000_000n, 1_000, 365, 'ACT/360')).toBe(101_389n);
  });

  it('rounds an exact half fen up', () => {
    // 1 fen at 100 % (10000 bp) for 180 days / 360 = 0.5 fen → 1
    expect(simpleInterest(1n, 10_000, 180, 'ACT/360')).toBe(1n);
    // 179 days: 0.497… fen → 0
    expect(simpleInterest(1n, 10_000, 179, 'ACT/360')).toBe(0n);
    // 100 fen at 500 bp for 36 days / 360 = 0.5 fen → 1; ACT/365 gives 0.493… → 0
    expect(simpleInterest(100n, 500, 36, 'ACT/360')).toBe(1n);
    expect(simpleInterest(100n, 500, 36, 'ACT/365')).toBe(0n);
  });

  it('is rounded once over the whole tenor, not day by day', () => {
    // 700 fen at 3650 bp under ACT/365 accrues 0.7 fen a day: rounding each day would give 30 fen, once gives 21.
    expect(simpleInterest(700n, 3_650, 30, 'ACT/365')).toBe(21n);
    // 1000 fen at the same rate accrues exactly 1 fen a day.
    expect(simpleInterest(1_000n, 3_650, 30, 'ACT/365')).toBe(30n);
  });

  it('is zero for zero principal, zero rate or zero days', () => {
    expect(simpleInterest(0n, 450, 59, 'ACT/360')).toBe(0n);
    expect(simpleInterest(14_276_542n, 0, 59, 'ACT/360')).toBe(0n);
    expect(simpleInterest(14_276_542n, 450, 0, 'ACT/365')).toBe(0n);
  });

  const dayCounts: [DayCount, bigint][] = [
    ['ACT/360', 360n],
    ['ACT/365', 365n],
  ];
  const principal = fc.bigInt({ min: 0n, max: BigInt(Number.MAX_SAFE_INTEGER) });
  const rateBp = fc.integer({ min: 0, max: 100_000 });
  const days = fc.integer({ min: 0, max: 3_650 });

  it('property: equals the exact rational value rounded half-up, computed independently in BigInt', () => {
    fc.assert(
      fc.property(principal, rateBp, days, fc.constantFrom(...dayCounts), (p, bp, d, [dayCount, basis]) => {
        const numerator = p * BigInt(bp) * BigInt(d);
        const denominator = 10_000n * basis;
        expect(simpleInterest(p, bp, d, dayCount)).toBe(exactHalfUp(numerator, denominator));
      }),
    );
  });

  it('property: never negative for non-negative principal, rate and days', () => {
    fc.assert(
      fc.property(principal, rateBp, days, fc.constantFrom<DayCount>('ACT/360', 'ACT/365'), (p, bp, d, dayCount) => {
        expect(simpleInterest(p, bp, d, dayCount) >= 0n).toBe(true);
      }),
    );
  });

  it('property: ACT/360 never charges less than ACT/365 for the same loan', () => {
    fc.assert(
      fc.property(principal, rateBp, days, (p, bp, d) => {
        expect(simpleInterest(p, bp, d, 'ACT/360') >= simpleInterest(p, bp, d, 'ACT/365')).toBe(true);
      }),
    );
  });
});

describe('formatYuan', () => {
  it('writes yuan with thousands separators and two decimals', () => {
    expect(formatYuan(1_234_567n)).toBe('¥12,345.67');
    expect(formatYuan(14_276_542n)).toBe('¥142,765.42');
    expect(formatYuan(123_456_789_012n)).toBe('¥1,234,567,890.12');
  });

  it('pads fen and handles small amounts', () => {
    expect(formatYuan(0n)).toBe('¥0.00');
    expect(formatYuan(5n)).toBe('¥0.05');
    expect(formatYuan(100n)).toBe('¥1.00');
    expect(formatYuan(100_000n)).toBe('¥1,000.00');
    expect(formatYuan(99_999n)).toBe('¥999.99');
  });

  it('puts the sign before the currency symbol', () => {
    expect(formatYuan(-1_234_567n)).toBe('-¥12,345.67');
    expect(formatYuan(-5n)).toBe('-¥0.05');
  });
});

describe('fen()', () => {
  it('accepts integer numbers, bigints and digit strings', () => {
    expect(fen(1_234_567)).toBe(1_234_567n);
    expect(fen(-42)).toBe(-42n);
    expect(fen(10n ** 20n)).toBe(10n ** 20n);
    expect(fen('1234567')).toBe(1_234_567n);
  });

  it('refuses fractional, non-finite and unsafe numbers rather than rounding them', () => {
    expect(() => fen(12.5)).toThrow(RangeError);
    expect(() => fen(0.1 + 0.2)).toThrow(/not an integer amount of fen/);
    expect(() => fen(Number.NaN)).toThrow(RangeError);
    expect(() => fen(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => fen(2 ** 53)).toThrow(RangeError); // no longer exact as a double
  });

  it('refuses a decimal string', () => {
    expect(() => fen('12.50')).toThrow();
    expect(() => fen('abc')).toThrow();
  });
});
