import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type ChangeType, changeTypes, diffProfiles } from '../../src/modules/registry/diff';
import { enterpriseProfileSchema } from '../../src/modules/registry/profile';
import {
  type Finding,
  type Rule,
  type Severity,
  catalogue,
  coreEnterprisePayingLate,
  coverageBelowLines,
  coverageFallingFast,
  coverageNearBreach,
  deviceOffline,
  financedInvoiceCancelledOrDisputed,
  financedInvoiceOverdue,
  lineExpiringWithOutstanding,
  lineUtilizationHigh,
  priceMissingOrStale,
  registryChange,
  registryDataStale,
  repeatedRefusals,
  ruleParams,
  stockCountDiscrepancy,
  weightDiscrepancy,
  coreEnterpriseLateLinked,
  programUtilizationHigh,
  warningRunSkipped,
  unauthorizedOutbound,
} from '../../src/modules/warnings/rules';

/** Evaluates a rule with its defaults (ruleParams(rule, {})) or a program's overrides. */
function run<P extends z.ZodTypeAny, F>(r: Rule<P, F>, facts: F, overrides: unknown = {}): Finding | null {
  return r.evaluate(facts, ruleParams(r, overrides));
}

/** Just the severity, or null when the rule stays quiet. */
function sev<P extends z.ZodTypeAny, F>(r: Rule<P, F>, facts: F, overrides: unknown = {}): Severity | null {
  return run(r, facts, overrides)?.severity ?? null;
}

describe('catalogue', () => {
  it('has 19 rules with unique ids', () => {
    const ids = catalogue.map((r) => r.id);
    expect(ids).toHaveLength(19);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z][a-z_]*[a-z]$/);
  });

  it.each(catalogue.map((r) => [r.id, r] as const))('%s has a Chinese and an English name, a severity, a subject and defaults that parse {}', (_id, r) => {
    expect(r.nameZh).toMatch(/\p{Script=Han}/u);
    expect(r.nameEn.trim()).not.toBe('');
    expect(r.nameEn).toMatch(/^[A-Za-z]/);
    expect(r.nameEn).not.toMatch(/\p{Script=Han}/u);
    expect(['red', 'orange', 'yellow']).toContain(r.defaultSeverity);
    expect(['supplier', 'pledge', 'program', 'core_enterprise', 'credit_line', 'device', 'enterprise', 'invoice', 'business_day']).toContain(r.subjectType);
    expect(() => r.params.parse({})).not.toThrow();
    expect(ruleParams(r, {})).toEqual(r.params.parse({}));
  });

  it('has unique Chinese and English names', () => {
    expect(new Set(catalogue.map((r) => r.nameZh)).size).toBe(catalogue.length);
    expect(new Set(catalogue.map((r) => r.nameEn)).size).toBe(catalogue.length);
  });
});

describe('ruleParams', () => {
  it('fills every default from {}', () => {
    expect(ruleParams(coverageBelowLines, {})).toEqual({});
    expect(ruleParams(coverageFallingFast, {})).toEqual({ maxDailyDropBp: 1_000 });
    expect(ruleParams(coverageNearBreach, {})).toEqual({ marginBp: 500 });
    expect(ruleParams(deviceOffline, {})).toEqual({ maxSilentHours: 6 });
    expect(ruleParams(financedInvoiceOverdue, {})).toEqual({ redAfterDays: 30 });
    expect(ruleParams(coreEnterprisePayingLate, {})).toEqual({ maxDaysPastDue: 15, maxOverdueShareBp: 1_000 });
    expect(ruleParams(lineUtilizationHigh, {})).toEqual({ maxUtilizationBp: 9_000 });
    expect(ruleParams(lineExpiringWithOutstanding, {})).toEqual({ withinDays: 30 });
    expect(ruleParams(registryChange, {})).toEqual({ severities: {} });
    expect(ruleParams(registryDataStale, {})).toEqual({ maxAgeDays: 7 });
    expect(ruleParams(repeatedRefusals, {})).toEqual({ minAttempts: 2, windowDays: 30 });
  });

  it('treats a missing, undefined or null override as the defaults', () => {
    expect(ruleParams(deviceOffline)).toEqual({ maxSilentHours: 6 });
    expect(ruleParams(deviceOffline, undefined)).toEqual({ maxSilentHours: 6 });
    expect(ruleParams(deviceOffline, null)).toEqual({ maxSilentHours: 6 });
  });

  it('applies a partial override and keeps the other defaults', () => {
    expect(ruleParams(coreEnterprisePayingLate, { maxDaysPastDue: 5 })).toEqual({ maxDaysPastDue: 5, maxOverdueShareBp: 1_000 });
    expect(ruleParams(coreEnterprisePayingLate, { maxOverdueShareBp: 2_500 })).toEqual({ maxDaysPastDue: 15, maxOverdueShareBp: 2_500 });
    expect(ruleParams(registryChange, { severities: { name_changed: 'ignore' } })).toEqual({ severities: { name_changed: 'ignore' } });
  });

  it('accepts overrides at the edges of their ranges', () => {
    expect(ruleParams(coverageFallingFast, { maxDailyDropBp: 0 })).toEqual({ maxDailyDropBp: 0 });
    expect(ruleParams(coverageFallingFast, { maxDailyDropBp: 10_000 })).toEqual({ maxDailyDropBp: 10_000 });
    expect(ruleParams(deviceOffline, { maxSilentHours: 720 })).toEqual({ maxSilentHours: 720 });
    expect(ruleParams(deviceOffline, { maxSilentHours: 1.5 })).toEqual({ maxSilentHours: 1.5 });
    expect(ruleParams(registryDataStale, { maxAgeDays: 1 })).toEqual({ maxAgeDays: 1 });
    expect(ruleParams(registryDataStale, { maxAgeDays: 365 })).toEqual({ maxAgeDays: 365 });
    expect(ruleParams(lineExpiringWithOutstanding, { withinDays: 0 })).toEqual({ withinDays: 0 });
  });

  it.each([
    ['coverage_falling_fast above 10000 bp', coverageFallingFast, { maxDailyDropBp: 10_001 }],
    ['coverage_falling_fast negative', coverageFallingFast, { maxDailyDropBp: -1 }],
    ['coverage_falling_fast fractional bp', coverageFallingFast, { maxDailyDropBp: 1_000.5 }],
    ['coverage_falling_fast as a string', coverageFallingFast, { maxDailyDropBp: '1000' }],
    ['coverage_near_breach above 10000 bp', coverageNearBreach, { marginBp: 10_001 }],
    ['device_offline negative hours', deviceOffline, { maxSilentHours: -1 }],
    ['device_offline over 720 hours', deviceOffline, { maxSilentHours: 721 }],
    ['financed_invoice_overdue negative days', financedInvoiceOverdue, { redAfterDays: -1 }],
    ['financed_invoice_overdue fractional days', financedInvoiceOverdue, { redAfterDays: 1.5 }],
    ['core_enterprise_paying_late share above 10000 bp', coreEnterprisePayingLate, { maxOverdueShareBp: 10_001 }],
    ['core_enterprise_paying_late negative days', coreEnterprisePayingLate, { maxDaysPastDue: -1 }],
    ['line_utilization_high above 10000 bp', lineUtilizationHigh, { maxUtilizationBp: 10_001 }],
    ['line_expiring_with_outstanding over 365 days', lineExpiringWithOutstanding, { withinDays: 366 }],
    ['registry_change unknown severity', registryChange, { severities: { name_changed: 'purple' } }],
    ['registry_change severities not a record', registryChange, { severities: ['red'] }],
    ['registry_data_stale zero days', registryDataStale, { maxAgeDays: 0 }],
    ['registry_data_stale over 365 days', registryDataStale, { maxAgeDays: 366 }],
    ['repeated_refusals zero attempts', repeatedRefusals, { minAttempts: 0 }],
    ['repeated_refusals fractional attempts', repeatedRefusals, { minAttempts: 2.5 }],
    ['a non-object override', deviceOffline, 'six'],
  ] as const)('rejects a bad override with a ZodError: %s', (_title, r, overrides) => {
    expect(() => ruleParams(r as { params: z.ZodTypeAny }, overrides)).toThrow(z.ZodError);
  });
});

describe('coverage_below_lines (warning 13000 bp, liquidation 11000 bp)', () => {
  const lines = { warningLineBp: 13_000, liquidationLineBp: 11_000 };
  it.each([
    [13_001, null],
    [13_000, null],
    [12_999, 'orange'],
    [11_001, 'orange'],
    [11_000, 'orange'],
    [10_999, 'red'],
    [0, 'red'],
  ] as const)('coverage %i bp → %s', (coverageBp, expected) => {
    expect(sev(coverageBelowLines, { coverageBp, ...lines })).toBe(expected);
  });

  it('stays quiet on unknown coverage (the price rule covers that)', () => {
    expect(run(coverageBelowLines, { coverageBp: null, ...lines })).toBeNull();
  });

  it('names the line crossed in the evidence', () => {
    expect(run(coverageBelowLines, { coverageBp: 12_999, ...lines })).toEqual({ severity: 'orange', evidence: { coverageBp: 12_999, ...lines, line: 'warning' } });
    expect(run(coverageBelowLines, { coverageBp: 10_999, ...lines })).toEqual({ severity: 'red', evidence: { coverageBp: 10_999, ...lines, line: 'liquidation' } });
  });
});

describe('coverage_falling_fast (default 1000 bp a day)', () => {
  it('stays quiet on a drop of exactly 10%', () => {
    expect(run(coverageFallingFast, { previousCoverageBp: 15_000, coverageBp: 13_500 })).toBeNull();
    expect(run(coverageFallingFast, { previousCoverageBp: 10_000, coverageBp: 9_000 })).toBeNull();
  });

  it('fires orange just over 10%', () => {
    expect(run(coverageFallingFast, { previousCoverageBp: 10_000, coverageBp: 8_999 })).toEqual({
      severity: 'orange',
      evidence: { previousCoverageBp: 10_000, coverageBp: 8_999, dropBp: 1_001, maxDailyDropBp: 1_000 },
    });
    expect(sev(coverageFallingFast, { previousCoverageBp: 15_000, coverageBp: 13_485 })).toBe('orange'); // 10.1%
  });

  it('stays quiet just under 10%, on a flat day and on a rise', () => {
    expect(run(coverageFallingFast, { previousCoverageBp: 10_000, coverageBp: 9_001 })).toBeNull();
    expect(run(coverageFallingFast, { previousCoverageBp: 14_000, coverageBp: 14_000 })).toBeNull();
    expect(run(coverageFallingFast, { previousCoverageBp: 12_000, coverageBp: 20_000 })).toBeNull();
  });

  it('stays quiet when either day is unknown or the previous coverage is not positive', () => {
    expect(run(coverageFallingFast, { previousCoverageBp: null, coverageBp: 5_000 })).toBeNull();
    expect(run(coverageFallingFast, { previousCoverageBp: 15_000, coverageBp: null })).toBeNull();
    expect(run(coverageFallingFast, { previousCoverageBp: 0, coverageBp: 0 })).toBeNull();
  });

  it('fires on a collapse to zero', () => {
    expect(run(coverageFallingFast, { previousCoverageBp: 15_000, coverageBp: 0 })?.evidence).toMatchObject({ dropBp: 10_000 });
  });

  it('follows an overridden threshold', () => {
    const p = { maxDailyDropBp: 500 };
    expect(sev(coverageFallingFast, { previousCoverageBp: 10_000, coverageBp: 9_500 }, p)).toBeNull();
    expect(sev(coverageFallingFast, { previousCoverageBp: 10_000, coverageBp: 9_499 }, p)).toBe('orange');
  });
});

describe('coverage_near_breach (warning 13000 bp, default margin 500 bp)', () => {
  it.each([
    [12_999, null], // already below the line: coverage_below_lines' business
    [13_000, 'yellow'],
    [13_001, 'yellow'],
    [13_499, 'yellow'],
    [13_500, null],
    [20_000, null],
  ] as const)('coverage %i bp → %s', (coverageBp, expected) => {
    expect(sev(coverageNearBreach, { coverageBp, warningLineBp: 13_000 })).toBe(expected);
  });

  it('stays quiet on unknown coverage and carries the margin in the evidence', () => {
    expect(run(coverageNearBreach, { coverageBp: null, warningLineBp: 13_000 })).toBeNull();
    expect(run(coverageNearBreach, { coverageBp: 13_250, warningLineBp: 13_000 })).toEqual({ severity: 'yellow', evidence: { coverageBp: 13_250, warningLineBp: 13_000, marginBp: 500 } });
  });

  it('follows an overridden margin', () => {
    expect(sev(coverageNearBreach, { coverageBp: 13_999, warningLineBp: 13_000 }, { marginBp: 1_000 })).toBe('yellow');
    expect(sev(coverageNearBreach, { coverageBp: 14_000, warningLineBp: 13_000 }, { marginBp: 1_000 })).toBeNull();
    expect(sev(coverageNearBreach, { coverageBp: 13_000, warningLineBp: 13_000 }, { marginBp: 0 })).toBeNull();
  });
});

describe('unauthorized_outbound', () => {
  it('stays quiet with no unauthorized outbound', () => {
    expect(run(unauthorizedOutbound, { unauthorizedOutbounds: 0, quantity: 0 })).toBeNull();
  });

  it('fires red from the first unauthorized outbound', () => {
    expect(run(unauthorizedOutbound, { unauthorizedOutbounds: 1, quantity: 40 })).toEqual({ severity: 'red', evidence: { unauthorizedOutbounds: 1, quantity: 40 } });
    expect(sev(unauthorizedOutbound, { unauthorizedOutbounds: 7, quantity: 1_200 })).toBe('red');
  });
});

describe('stock_discrepancy (tolerance 200 bp on 1000 booked)', () => {
  const booked = { bookedQuantity: 1_000, toleranceBp: 200 };
  it.each([
    [1_000, null],
    [981, null],
    [980, null], // exactly 2% short
    [979, 'red'], // just over, short
    [0, 'red'],
    [1_019, null],
    [1_020, null], // exactly 2% over
    [1_021, 'orange'], // just over, over
  ] as const)('sensed %i → %s', (sensedQuantity, expected) => {
    expect(sev(stockCountDiscrepancy, { sensedQuantity, ...booked })).toBe(expected);
  });

  it('carries the facts as evidence', () => {
    expect(run(stockCountDiscrepancy, { sensedQuantity: 979, ...booked })).toEqual({ severity: 'red', evidence: { sensedQuantity: 979, ...booked } });
  });

  it('with zero tolerance fires on any difference', () => {
    expect(sev(stockCountDiscrepancy, { bookedQuantity: 50, sensedQuantity: 50, toleranceBp: 0 })).toBeNull();
    expect(sev(stockCountDiscrepancy, { bookedQuantity: 50, sensedQuantity: 49, toleranceBp: 0 })).toBe('red');
    expect(sev(stockCountDiscrepancy, { bookedQuantity: 50, sensedQuantity: 51, toleranceBp: 0 })).toBe('orange');
  });

  it('with nothing booked stays quiet on nothing found and fires orange on anything found', () => {
    expect(sev(stockCountDiscrepancy, { bookedQuantity: 0, sensedQuantity: 0, toleranceBp: 200 })).toBeNull();
    expect(sev(stockCountDiscrepancy, { bookedQuantity: 0, sensedQuantity: 1, toleranceBp: 200 })).toBe('orange');
  });
});

describe('device_offline (default 6 h)', () => {
  it.each([
    [0, null],
    [5.99, null],
    [6, null],
    [6.01, 'orange'],
    [24, 'orange'], // 4 × the limit is still orange
    [24.01, 'red'],
    [72, 'red'],
  ] as const)('silent %f h → %s', (silentHours, expected) => {
    expect(sev(deviceOffline, { silentHours })).toBe(expected);
  });

  it('carries the limit in the evidence', () => {
    expect(run(deviceOffline, { silentHours: 7 })).toEqual({ severity: 'orange', evidence: { silentHours: 7, maxSilentHours: 6 } });
  });

  it('follows an overridden limit (red beyond 4 ×)', () => {
    expect(sev(deviceOffline, { silentHours: 2 }, { maxSilentHours: 2 })).toBeNull();
    expect(sev(deviceOffline, { silentHours: 2.5 }, { maxSilentHours: 2 })).toBe('orange');
    expect(sev(deviceOffline, { silentHours: 8 }, { maxSilentHours: 2 })).toBe('orange');
    expect(sev(deviceOffline, { silentHours: 8.5 }, { maxSilentHours: 2 })).toBe('red');
  });
});

describe('price_missing_or_stale', () => {
  it('stays quiet when every SKU has a fresh price', () => {
    expect(run(priceMissingOrStale, { missingSkus: [] })).toBeNull();
  });

  it('fires red on one missing or stale SKU and lists them', () => {
    expect(run(priceMissingOrStale, { missingSkus: ['STEEL-HRC-4.75'] })).toEqual({ severity: 'red', evidence: { missingSkus: ['STEEL-HRC-4.75'] } });
    expect(run(priceMissingOrStale, { missingSkus: ['A', 'B'] })?.evidence).toEqual({ missingSkus: ['A', 'B'] });
  });
});

describe('financed_invoice_overdue (grace 5 days, default redAfterDays 30)', () => {
  const graceDays = 5;
  it.each([
    [0, null],
    [4, null],
    [5, null], // at grace
    [6, 'orange'], // grace + 1
    [35, 'orange'], // grace + redAfterDays
    [36, 'red'], // beyond
    [400, 'red'],
  ] as const)('%i days past due → %s', (daysPastDue, expected) => {
    expect(sev(financedInvoiceOverdue, { daysPastDue, graceDays })).toBe(expected);
  });

  it('with no grace fires from the first day past due', () => {
    expect(sev(financedInvoiceOverdue, { daysPastDue: 0, graceDays: 0 })).toBeNull();
    expect(sev(financedInvoiceOverdue, { daysPastDue: 1, graceDays: 0 })).toBe('orange');
    expect(sev(financedInvoiceOverdue, { daysPastDue: 31, graceDays: 0 })).toBe('red');
  });

  it('carries grace and redAfterDays in the evidence and follows an override', () => {
    expect(run(financedInvoiceOverdue, { daysPastDue: 6, graceDays })).toEqual({ severity: 'orange', evidence: { daysPastDue: 6, graceDays, redAfterDays: 30 } });
    expect(sev(financedInvoiceOverdue, { daysPastDue: 15, graceDays }, { redAfterDays: 10 })).toBe('orange');
    expect(sev(financedInvoiceOverdue, { daysPastDue: 16, graceDays }, { redAfterDays: 10 })).toBe('red');
    expect(sev(financedInvoiceOverdue, { daysPastDue: 6, graceDays }, { redAfterDays: 0 })).toBe('red');
  });
});

describe('financed_invoice_cancelled_or_disputed', () => {
  it.each([
    ['financed_invoice_cancelled', 'red'],
    ['financed_invoice_disputed', 'red'],
    ['financed_invoice_impaired', 'orange'],
  ] as const)('%s → %s', (event, expected) => {
    expect(run(financedInvoiceCancelledOrDisputed, { event })).toEqual({ severity: expected, evidence: { event } });
  });
});

describe('core_enterprise_paying_late (default 15 days, 1000 bp)', () => {
  const ok = { worstDaysPastDue: 15, overdueShareBp: 1_000 };
  it('stays quiet with both exactly at their limits', () => {
    expect(run(coreEnterprisePayingLate, ok)).toBeNull();
    expect(run(coreEnterprisePayingLate, { worstDaysPastDue: 0, overdueShareBp: 0 })).toBeNull();
  });

  it('fires orange on late payment alone', () => {
    expect(run(coreEnterprisePayingLate, { ...ok, worstDaysPastDue: 16 })).toEqual({
      severity: 'orange',
      evidence: { worstDaysPastDue: 16, overdueShareBp: 1_000, maxDaysPastDue: 15, maxOverdueShareBp: 1_000 },
    });
  });

  it('fires orange on the overdue share alone', () => {
    expect(sev(coreEnterprisePayingLate, { ...ok, overdueShareBp: 1_001 })).toBe('orange');
    expect(sev(coreEnterprisePayingLate, { worstDaysPastDue: 0, overdueShareBp: 10_000 })).toBe('orange');
  });

  it('fires red on both together', () => {
    expect(sev(coreEnterprisePayingLate, { worstDaysPastDue: 16, overdueShareBp: 1_001 })).toBe('red');
    expect(sev(coreEnterprisePayingLate, { worstDaysPastDue: 90, overdueShareBp: 5_000 })).toBe('red');
  });

  it('follows overrides', () => {
    const p = { maxDaysPastDue: 30, maxOverdueShareBp: 2_000 };
    expect(sev(coreEnterprisePayingLate, { worstDaysPastDue: 30, overdueShareBp: 2_000 }, p)).toBeNull();
    expect(sev(coreEnterprisePayingLate, { worstDaysPastDue: 31, overdueShareBp: 2_000 }, p)).toBe('orange');
    expect(sev(coreEnterprisePayingLate, { worstDaysPastDue: 31, overdueShareBp: 2_001 }, p)).toBe('red');
  });
});

describe('line_utilization_high (default 9000 bp, BigInt fen)', () => {
  const limitFen = 1_000_000_000n; // 1000 万元
  it.each([
    [0n, null],
    [899_999_999n, null],
    [900_000_000n, null], // 9000 bp exactly
    [900_100_000n, 'yellow'], // 9001 bp
    [1_000_000_000n, 'yellow'],
    [1_200_000_000n, 'yellow'], // over the limit
  ] as const)('outstanding %s fen → %s', (outstandingFen, expected) => {
    expect(sev(lineUtilizationHigh, { outstandingFen, limitFen })).toBe(expected);
  });

  it('reports amounts as strings (JSON-safe) with the utilization', () => {
    expect(run(lineUtilizationHigh, { outstandingFen: 900_100_000n, limitFen })).toEqual({
      severity: 'yellow',
      evidence: { outstandingFen: '900100000', limitFen: '1000000000', utilizationBp: 9_001, maxUtilizationBp: 9_000 },
    });
  });

  it('handles amounts beyond Number.MAX_SAFE_INTEGER', () => {
    const big = 10n ** 20n;
    expect(sev(lineUtilizationHigh, { outstandingFen: (big * 9_000n) / 10_000n, limitFen: big })).toBeNull();
    expect(run(lineUtilizationHigh, { outstandingFen: (big * 9_001n) / 10_000n, limitFen: big })?.evidence).toMatchObject({ utilizationBp: 9_001, limitFen: '100000000000000000000' });
  });

  it('stays quiet on a zero (or negative) limit', () => {
    expect(run(lineUtilizationHigh, { outstandingFen: 5_000n, limitFen: 0n })).toBeNull();
    expect(run(lineUtilizationHigh, { outstandingFen: 5_000n, limitFen: -1n })).toBeNull();
  });

  it('follows an overridden threshold', () => {
    expect(sev(lineUtilizationHigh, { outstandingFen: 10_000n, limitFen: 10_000n }, { maxUtilizationBp: 10_000 })).toBeNull();
    expect(sev(lineUtilizationHigh, { outstandingFen: 10_001n, limitFen: 10_000n }, { maxUtilizationBp: 10_000 })).toBe('yellow');
  });
});

describe('line_expiring_with_outstanding (default 30 days)', () => {
  const outstandingFen = 1_500_000n;
  it.each([
    [31, null],
    [30, 'yellow'],
    [1, 'yellow'],
    [0, 'red'],
    [-3, 'red'], // already expired
  ] as const)('%i days to expiry → %s', (daysToExpiry, expected) => {
    expect(sev(lineExpiringWithOutstanding, { daysToExpiry, outstandingFen })).toBe(expected);
  });

  it('stays quiet with nothing outstanding, even on an expired line', () => {
    expect(run(lineExpiringWithOutstanding, { daysToExpiry: 10, outstandingFen: 0n })).toBeNull();
    expect(run(lineExpiringWithOutstanding, { daysToExpiry: 0, outstandingFen: 0n })).toBeNull();
  });

  it('reports the outstanding as a string and follows an override', () => {
    expect(run(lineExpiringWithOutstanding, { daysToExpiry: 30, outstandingFen: 1n })).toEqual({ severity: 'yellow', evidence: { daysToExpiry: 30, outstandingFen: '1', withinDays: 30 } });
    expect(sev(lineExpiringWithOutstanding, { daysToExpiry: 8, outstandingFen }, { withinDays: 7 })).toBeNull();
    expect(sev(lineExpiringWithOutstanding, { daysToExpiry: 7, outstandingFen }, { withinDays: 7 })).toBe('yellow');
    expect(sev(lineExpiringWithOutstanding, { daysToExpiry: 1, outstandingFen }, { withinDays: 0 })).toBeNull();
    expect(sev(lineExpiringWithOutstanding, { daysToExpiry: 0, outstandingFen }, { withinDays: 0 })).toBe('red');
  });
});

describe('registry_change', () => {
  const types = Object.keys(changeTypes) as ChangeType[];

  it.each(types)('%s takes the diff table severity by default', (type) => {
    const severityHint = changeTypes[type].severity;
    expect(run(registryChange, { type, severityHint })).toEqual({ severity: severityHint, evidence: { type, severityHint } });
  });

  it('takes the severity the diff gave the event over the table', () => {
    // status_changed is red in the table; back to in business the diff hints yellow.
    expect(sev(registryChange, { type: 'status_changed', severityHint: 'yellow' })).toBe('yellow');
    expect(sev(registryChange, { type: 'registered_capital_reduced', severityHint: 'red' })).toBe('red');
  });

  it('falls back to the table when no hint is given', () => {
    const facts = { type: 'dishonest_debtor_added' } as { type: ChangeType; severityHint: Severity };
    expect(sev(registryChange, facts)).toBe('red');
  });

  it('follows real diff events and their hints', () => {
    const base = {
      creditCode: '91350100M000100Y43',
      name: '福州闽江供应链管理有限公司',
      status: 'in_business',
      legalRepresentative: '林建华',
      registeredCapital: { amountFen: 5_000_000_000 },
      address: '福建省福州市鼓楼区五四路 88 号',
      businessScope: '供应链管理服务',
    };
    const before = enterpriseProfileSchema.parse(base);
    const after = enterpriseProfileSchema.parse({ ...base, status: 'deregistered', registeredCapital: { amountFen: 1_000_000_000 }, address: '福建省福州市台江区 1 号' });
    const events = diffProfiles(before, after, { shareholderRatioPoints: 5 });
    const found = Object.fromEntries(events.map((e) => [e.type, sev(registryChange, { type: e.type, severityHint: e.severity, detail: e.detail })]));
    expect(found).toEqual({ status_changed: 'red', registered_capital_reduced: 'red', address_changed: 'yellow' });

    const revived = diffProfiles(after, before, { shareholderRatioPoints: 5 }).find((e) => e.type === 'status_changed')!;
    expect(revived.severity).toBe('yellow');
    expect(sev(registryChange, { type: revived.type, severityHint: revived.severity })).toBe('yellow');
  });

  it('lets a program override one type and leaves the others on their hints', () => {
    const overrides = { severities: { address_changed: 'red', legal_representative_changed: 'yellow' } };
    expect(sev(registryChange, { type: 'address_changed', severityHint: 'yellow' }, overrides)).toBe('red');
    expect(sev(registryChange, { type: 'legal_representative_changed', severityHint: 'orange' }, overrides)).toBe('yellow');
    expect(sev(registryChange, { type: 'name_changed', severityHint: 'yellow' }, overrides)).toBe('yellow');
    // the override wins over the diff's own, event-specific hint too
    expect(sev(registryChange, { type: 'status_changed', severityHint: 'red' }, { severities: { status_changed: 'orange' } })).toBe('orange');
  });

  it("drops a type set to 'ignore'", () => {
    const overrides = { severities: { business_scope_changed: 'ignore' } };
    expect(run(registryChange, { type: 'business_scope_changed', severityHint: 'yellow' }, overrides)).toBeNull();
    expect(sev(registryChange, { type: 'name_changed', severityHint: 'yellow' }, overrides)).toBe('yellow');
  });

  it('keeps the detail in the evidence', () => {
    const facts = { type: 'lawsuit_as_defendant' as const, severityHint: 'orange' as const, detail: { amountFen: 800_000 } };
    expect(run(registryChange, facts)).toEqual({ severity: 'orange', evidence: facts });
  });
});

describe('registry_data_stale (default 7 days)', () => {
  it.each([
    [0, null],
    [6, null],
    [7, null],
    [8, 'yellow'],
    [90, 'yellow'],
    [null, 'orange'], // never fetched successfully
  ] as const)('%s days since success → %s', (daysSinceSuccess, expected) => {
    expect(sev(registryDataStale, { daysSinceSuccess })).toBe(expected);
  });

  it('carries the limit in the evidence and follows an override', () => {
    expect(run(registryDataStale, { daysSinceSuccess: null })).toEqual({ severity: 'orange', evidence: { daysSinceSuccess: null, maxAgeDays: 7 } });
    expect(sev(registryDataStale, { daysSinceSuccess: 1 }, { maxAgeDays: 1 })).toBeNull();
    expect(sev(registryDataStale, { daysSinceSuccess: 2 }, { maxAgeDays: 1 })).toBe('yellow');
    expect(sev(registryDataStale, { daysSinceSuccess: null }, { maxAgeDays: 365 })).toBe('orange');
  });
});

describe('repeated_refusals (default minAttempts 2)', () => {
  it.each([
    [0, null],
    [1, null],
    [2, 'orange'], // at minAttempts
    [5, 'orange'],
    [6, 'red'], // minAttempts × 3
    [20, 'red'],
  ] as const)('%i refused attempts → %s', (refusedAttempts, expected) => {
    expect(sev(repeatedRefusals, { refusedAttempts })).toBe(expected);
  });

  it('carries minAttempts in the evidence and follows an override', () => {
    expect(run(repeatedRefusals, { refusedAttempts: 2 })).toEqual({ severity: 'orange', evidence: { refusedAttempts: 2, minAttempts: 2, windowDays: 30 } });
    expect(sev(repeatedRefusals, { refusedAttempts: 1 }, { minAttempts: 1 })).toBe('orange');
    expect(sev(repeatedRefusals, { refusedAttempts: 3 }, { minAttempts: 1 })).toBe('red');
    expect(sev(repeatedRefusals, { refusedAttempts: 4 }, { minAttempts: 5 })).toBeNull();
    expect(sev(repeatedRefusals, { refusedAttempts: 14 }, { minAttempts: 5 })).toBe('orange');
    expect(sev(repeatedRefusals, { refusedAttempts: 15 }, { minAttempts: 5 })).toBe('red');
  });
});

describe('exact comparisons at the threshold (found in review)', () => {
  it('a weighing exactly at tolerance does not fire; one gram over does', async () => {
    const { outsideTolerance } = await import('../../src/modules/warnings/rules');
    expect(outsideTolerance({ bookedQuantity: 1, sensedQuantity: 0.99, toleranceBp: 100, grossGrams: 990, nominalUnitWeightGrams: 1000 })).toBe(false);
    expect(outsideTolerance({ bookedQuantity: 1, sensedQuantity: 0.989, toleranceBp: 100, grossGrams: 989, nominalUnitWeightGrams: 1000 })).toBe(true);
  });

  it('a coverage drop or a utilization a hair over the threshold fires', async () => {
    const { coverageFallingFast, lineUtilizationHigh, ruleParams } = await import('../../src/modules/warnings/rules');
    expect(coverageFallingFast.evaluate({ previousCoverageBp: 15_000, coverageBp: 13_499 }, ruleParams(coverageFallingFast, {}))).not.toBeNull();
    expect(lineUtilizationHigh.evaluate({ outstandingFen: 900_099_999n, limitFen: 1_000_000_000n }, ruleParams(lineUtilizationHigh, {}))).not.toBeNull();
  });

  it('a severity override for a change type that does not exist is refused', async () => {
    const { registryChange, ruleParams } = await import('../../src/modules/warnings/rules');
    expect(() => ruleParams(registryChange, { severities: { legal_rep_changed: 'ignore' } })).toThrow();
  });
});

describe('weight_discrepancy (nominal 1000 g a unit, tolerance 200 bp on 100 booked = 100,000 g)', () => {
  const f = { bookedQuantity: 100, sensedQuantity: 0, toleranceBp: 200, nominalUnitWeightGrams: 1_000 };
  it.each([
    [98_000, null], // exactly at −2%: inside
    [97_999, 'red'], // one gram under
    [102_000, null],
    [102_001, 'orange'],
  ] as const)('%i g → %s', (grossGrams, expected) => {
    expect(sev(weightDiscrepancy, { ...f, grossGrams, sensedQuantity: grossGrams / 1_000 })).toBe(expected);
  });
});

describe('core_enterprise_late_linked (1+N)', () => {
  it('carries the core enterprise severity to a supplier with outstanding, not to one without', () => {
    expect(sev(coreEnterpriseLateLinked, { coreSeverity: 'red', coreEnterpriseOrganizationId: 'c', outstandingFen: 1n })).toBe('red');
    expect(sev(coreEnterpriseLateLinked, { coreSeverity: 'orange', coreEnterpriseOrganizationId: 'c', outstandingFen: 1n })).toBe('orange');
    expect(sev(coreEnterpriseLateLinked, { coreSeverity: 'red', coreEnterpriseOrganizationId: 'c', outstandingFen: 0n })).toBeNull();
  });
});

describe('program_utilization_high (default 9000 bp)', () => {
  it.each([
    [899_999n, null],
    [900_000n, null],
    [900_001n, 'yellow'],
  ] as const)('%s of 1,000,000 fen → %s', (outstandingFen, expected) => {
    expect(sev(programUtilizationHigh, { outstandingFen, limitFen: 1_000_000n })).toBe(expected);
  });
  it('ignores a zero limit and follows an override', () => {
    expect(sev(programUtilizationHigh, { outstandingFen: 0n, limitFen: 0n })).toBeNull();
    expect(sev(programUtilizationHigh, { outstandingFen: 500_001n, limitFen: 1_000_000n }, { maxUtilizationBp: 5_000 })).toBe('yellow');
  });
});

describe('warning_run_skipped', () => {
  it('is red when no run succeeded for the day, quiet when one did', () => {
    expect(sev(warningRunSkipped, { businessDate: '2026-11-20', succeededRuns: 0, lastRunStatus: null })).toBe('red');
    expect(sev(warningRunSkipped, { businessDate: '2026-11-20', succeededRuns: 0, lastRunStatus: 'failed' })).toBe('red');
    expect(sev(warningRunSkipped, { businessDate: '2026-11-20', succeededRuns: 1, lastRunStatus: 'succeeded' })).toBeNull();
  });
});

describe('repeated_refusals window', () => {
  it('defaults to 30 days and refuses a window beyond a year', () => {
    expect(ruleParams(repeatedRefusals, {}).windowDays).toBe(30);
    expect(() => ruleParams(repeatedRefusals, { windowDays: 366 })).toThrow();
    expect(() => ruleParams(repeatedRefusals, { windowDays: 0 })).toThrow();
  });
});
