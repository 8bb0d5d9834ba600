import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays } from '../../src/lib/clock';
import { simpleInterest } from '../../src/lib/money';
import { computeQuote, type QuotedInvoice, type QuoteTerms } from '../../src/modules/financing/quote-math';

const TODAY = '2026-03-02';

const invoice = (overrides: Partial<QuotedInvoice> = {}): QuotedInvoice => ({
  invoiceId: 'inv-1',
  amountFen: 10_000_000n, // ¥100,000.00
  creditNoteFen: 0n,
  paidFen: 0n,
  dueDate: '2026-05-01', // 60 days after TODAY
  ...overrides,
});

const terms = (overrides: Partial<QuoteTerms> = {}): QuoteTerms => ({
  advanceRateBp: 8_000, // 80 %
  annualRateBp: 450,
  dayCount: 'ACT/360',
  maxTenorDays: 180,
  lineAvailableFen: 1_000_000_000n,
  programRemainingFen: 5_000_000_000n,
  today: TODAY,
  ...overrides,
});

describe('computeQuote: principal = min(advance, line available, program remaining)', () => {
  it('is the advance on the face value when both limits are ample', () => {
    const q = computeQuote([invoice()], terms());
    expect(q.faceValueFen).toBe(10_000_000n);
    expect(q.advanceFen).toBe(8_000_000n);
    expect(q.principalFen).toBe(8_000_000n);
    expect(q.cappedBy).toBe('advance_rate');
  });

  it('is capped by the credit line’s available amount', () => {
    const q = computeQuote([invoice()], terms({ lineAvailableFen: 5_000_000n, programRemainingFen: 7_000_000n }));
    expect(q.advanceFen).toBe(8_000_000n);
    expect(q.principalFen).toBe(5_000_000n);
    expect(q.cappedBy).toBe('line_available');
  });

  it('is capped by what remains of the program', () => {
    const q = computeQuote([invoice()], terms({ lineAvailableFen: 7_000_000n, programRemainingFen: 3_000_000n }));
    expect(q.principalFen).toBe(3_000_000n);
    expect(q.cappedBy).toBe('program_remaining');
  });

  it('names the advance rate when it ties with a limit', () => {
    const q = computeQuote([invoice()], terms({ lineAvailableFen: 8_000_000n, programRemainingFen: 8_000_000n }));
    expect(q.principalFen).toBe(8_000_000n);
    expect(q.cappedBy).toBe('advance_rate');
  });

  it('names the line when line and program tie below the advance', () => {
    const q = computeQuote([invoice()], terms({ lineAvailableFen: 2_000_000n, programRemainingFen: 2_000_000n }));
    expect(q.principalFen).toBe(2_000_000n);
    expect(q.cappedBy).toBe('line_available');
  });

  it('applies the advance rate to the total face, rounded down once', () => {
    const q = computeQuote([invoice({ amountFen: 999n })], terms({ advanceRateBp: 8_000 }));
    expect(q.advanceFen).toBe(799n); // 799.2 → 799
    // Two invoices of 3 fen at 50 %: the advance is 50 % of the total 6 fen; the parts (pro rata, the spare fen to the first of the largest) add up to it.
    const r = computeQuote([invoice({ invoiceId: 'a', amountFen: 3n }), invoice({ invoiceId: 'b', amountFen: 3n })], terms({ advanceRateBp: 5_000 }));
    expect(r.invoices.map((l) => l.advanceFen)).toEqual([2n, 1n]);
    expect(r.advanceFen).toBe(3n);
    expect(r.principalFen).toBe(3n);
  });
});

describe('computeQuote: outstanding face', () => {
  it('subtracts credit notes and payments the ledger reports', () => {
    const q = computeQuote([invoice({ amountFen: 10_000_000n, creditNoteFen: 1_500_000n, paidFen: 2_500_000n })], terms());
    expect(q.invoices[0]!.outstandingFaceFen).toBe(6_000_000n);
    expect(q.faceValueFen).toBe(6_000_000n);
    expect(q.advanceFen).toBe(4_800_000n);
    expect(q.principalFen).toBe(4_800_000n);
  });

  it('sums the outstanding face of every invoice and keeps each line', () => {
    const q = computeQuote(
      [invoice({ invoiceId: 'a', amountFen: 3_000_000n, paidFen: 1_000_000n }), invoice({ invoiceId: 'b', amountFen: 5_000_000n, creditNoteFen: 500_000n })],
      terms(),
    );
    expect(q.invoices.map((l) => [l.invoiceId, l.outstandingFaceFen, l.advanceFen])).toEqual([
      ['a', 2_000_000n, 1_600_000n],
      ['b', 4_500_000n, 3_600_000n],
    ]);
    expect(q.faceValueFen).toBe(6_500_000n);
    expect(q.advanceFen).toBe(5_200_000n);
  });

  it('a fully paid invoice leaves nothing to advance and no interest', () => {
    const q = computeQuote([invoice({ amountFen: 1_000_000n, paidFen: 1_000_000n })], terms());
    expect(q.faceValueFen).toBe(0n);
    expect(q.principalFen).toBe(0n);
    expect(q.interestFen).toBe(0n);
  });
});

describe('computeQuote: tenor, interest and maturity', () => {
  it('runs to the earliest due date of the invoices', () => {
    const q = computeQuote(
      [invoice({ invoiceId: 'late', dueDate: '2026-06-30' }), invoice({ invoiceId: 'early', dueDate: '2026-04-15' }), invoice({ invoiceId: 'mid', dueDate: '2026-05-20' })],
      terms(),
    );
    expect(q.daysToEarliestDue).toBe(44); // 2026-03-02 → 2026-04-15
    expect(q.tenorDays).toBe(44);
    expect(q.maturityDate).toBe('2026-04-15');
  });

  it('is capped by the program’s maximum tenor', () => {
    const q = computeQuote([invoice({ dueDate: '2026-12-31' })], terms({ maxTenorDays: 90 }));
    expect(q.daysToEarliestDue).toBe(304);
    expect(q.tenorDays).toBe(90);
    expect(q.maturityDate).toBe('2026-05-31');
  });

  it('counts actual days across month ends and a leap February', () => {
    const q = computeQuote([invoice({ dueDate: '2028-03-01' })], terms({ today: '2028-02-01' }));
    expect(q.tenorDays).toBe(29);
    expect(q.maturityDate).toBe('2028-03-01');
  });

  it('charges interest on the principal for the tenor: the worked example', () => {
    // face ¥178,456.78 at 80 % → ¥142,765.42; 59 days at 450 bp ACT/360 → ¥1,052.89
    const q = computeQuote([invoice({ amountFen: 17_845_678n, dueDate: addDays(TODAY, 59) })], terms({ advanceRateBp: 8_000, annualRateBp: 450, dayCount: 'ACT/360' }));
    expect(q.principalFen).toBe(14_276_542n);
    expect(q.tenorDays).toBe(59);
    expect(q.interestFen).toBe(105_289n);
  });

  it('uses the program’s day count', () => {
    const q = computeQuote([invoice({ amountFen: 17_845_678n, dueDate: addDays(TODAY, 59) })], terms({ dayCount: 'ACT/365' }));
    expect(q.interestFen).toBe(103_847n);
  });

  it('charges interest on the capped principal, not on the advance', () => {
    const q = computeQuote([invoice({ dueDate: addDays(TODAY, 60) })], terms({ lineAvailableFen: 3_600_000n, annualRateBp: 600 }));
    // 3 600 000 × 600 × 60 / 3 600 000 = 36 000
    expect(q.interestFen).toBe(36_000n);
  });

  it('with no invoices quotes nothing, maturing today', () => {
    const q = computeQuote([], terms());
    expect(q.principalFen).toBe(0n);
    expect(q.tenorDays).toBe(0);
    expect(q.interestFen).toBe(0n);
    expect(q.maturityDate).toBe(TODAY);
  });
});

describe('computeQuote properties', () => {
  const date = fc.integer({ min: 1, max: 720 }).map((d) => addDays(TODAY, d));
  const quotedInvoice = fc
    .record({
      amountFen: fc.bigInt({ min: 1n, max: 10n ** 12n }),
      creditShare: fc.integer({ min: 0, max: 100 }),
      paidShare: fc.integer({ min: 0, max: 100 }),
      dueDate: date,
    })
    .map(({ amountFen, creditShare, paidShare, dueDate }) => {
      // credit notes and payments together never exceed the invoice amount
      const creditNoteFen = (amountFen * BigInt(creditShare)) / 200n;
      const paidFen = (amountFen * BigInt(paidShare)) / 200n;
      return { invoiceId: 'x', amountFen, creditNoteFen, paidFen, dueDate };
    });
  const quoteTerms = fc.record({
    advanceRateBp: fc.integer({ min: 0, max: 10_000 }),
    annualRateBp: fc.integer({ min: 0, max: 3_600 }),
    dayCount: fc.constantFrom<'ACT/360' | 'ACT/365'>('ACT/360', 'ACT/365'),
    maxTenorDays: fc.integer({ min: 1, max: 365 }),
    lineAvailableFen: fc.bigInt({ min: 0n, max: 10n ** 13n }),
    programRemainingFen: fc.bigInt({ min: 0n, max: 10n ** 13n }),
    today: fc.constant(TODAY),
  });

  it('principal never exceeds the advance, the line, the program, or the outstanding face', () => {
    fc.assert(
      fc.property(fc.array(quotedInvoice, { minLength: 1, maxLength: 8 }), quoteTerms, (invs, t) => {
        const q = computeQuote(invs, t);
        const face = invs.reduce((s, i) => s + i.amountFen - i.creditNoteFen - i.paidFen, 0n);
        expect(q.faceValueFen).toBe(face);
        expect(q.principalFen <= q.advanceFen).toBe(true);
        expect(q.principalFen <= t.lineAvailableFen).toBe(true);
        expect(q.principalFen <= t.programRemainingFen).toBe(true);
        expect(q.principalFen <= face).toBe(true);
        expect(q.principalFen >= 0n).toBe(true);
        // and it is one of the three, named by cappedBy
        const named = { advance_rate: q.advanceFen, line_available: t.lineAvailableFen, program_remaining: t.programRemainingFen }[q.cappedBy];
        expect(q.principalFen).toBe(named);
      }),
    );
  });

  it('tenor is the days to the earliest due date capped by the maximum, and interest is simpleInterest on it', () => {
    fc.assert(
      fc.property(fc.array(quotedInvoice, { minLength: 1, maxLength: 8 }), quoteTerms, (invs, t) => {
        const q = computeQuote(invs, t);
        const earliest = invs.map((i) => i.dueDate).reduce((a, b) => (b < a ? b : a));
        expect(addDays(t.today, q.daysToEarliestDue)).toBe(earliest);
        expect(q.tenorDays).toBe(Math.min(q.daysToEarliestDue, t.maxTenorDays));
        expect(q.tenorDays <= t.maxTenorDays).toBe(true);
        expect(q.maturityDate <= earliest).toBe(true);
        expect(q.maturityDate).toBe(addDays(t.today, q.tenorDays));
        expect(q.interestFen).toBe(simpleInterest(q.principalFen, t.annualRateBp, q.tenorDays, t.dayCount));
      }),
    );
  });
});

describe('computeQuote: per-invoice shares of the principal', () => {
  it('add up to the principal exactly, also when a cap applies', () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: 1n, max: 10_000_000_000n }), { minLength: 1, maxLength: 20 }), fc.bigInt({ min: 0n, max: 50_000_000_000n }), (amounts, lineAvailable) => {
        const q = computeQuote(
          amounts.map((amountFen, i) => invoice({ invoiceId: `i${i}`, amountFen })),
          terms({ lineAvailableFen: lineAvailable }),
        );
        expect(q.invoices.reduce((s, l) => s + l.advanceFen, 0n)).toBe(q.principalFen);
        for (const l of q.invoices) expect(l.advanceFen >= 0n && l.advanceFen <= l.outstandingFaceFen).toBe(true);
      }),
    );
  });
});
