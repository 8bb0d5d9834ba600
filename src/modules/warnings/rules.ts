import { z } from 'zod';
import { changeTypes, type ChangeType } from '../registry/diff';

/**
 * The T+1 rule catalogue (预警规则). Each rule is pure: it receives the facts it needs for one
 * subject and business day and its parameters, and says whether it fires, how badly and why —
 * so every threshold is unit-tested without a database. The nightly run gathers the facts.
 */
export type Severity = 'red' | 'orange' | 'yellow';
export type SubjectType = 'supplier' | 'pledge' | 'program' | 'core_enterprise' | 'credit_line' | 'enterprise' | 'invoice' | 'business_day';

const SEVERITY_RANK: Record<Severity, number> = { red: 0, orange: 1, yellow: 2 };
/** The worse of two severities: merged findings and refreshed signals never get milder. */
export const worse = (a: Severity, b: Severity): Severity => (SEVERITY_RANK[a] <= SEVERITY_RANK[b] ? a : b);
export const severityRank = (s: Severity) => SEVERITY_RANK[s];

export interface Finding {
  severity: Severity;
  evidence: Record<string, unknown>;
}

export interface Rule<P extends z.ZodTypeAny, F> {
  id: string;
  nameZh: string;
  nameEn: string;
  subjectType: SubjectType;
  defaultSeverity: Severity;
  params: P;
  evaluate(facts: F, params: z.output<P>): Finding | null;
}

export const MAX_REFUSAL_WINDOW_DAYS = 365;
const rule = <P extends z.ZodTypeAny, F>(r: Rule<P, F>) => r;
const bp = (max = 100_000) => z.number().int().min(0).max(max);

export const coverageBelowLines = rule({
  id: 'coverage_below_lines',
  nameZh: '质押率跌破预警线/平仓线',
  nameEn: 'Collateral coverage below the warning or liquidation line',
  subjectType: 'credit_line',
  defaultSeverity: 'orange',
  params: z.object({}),
  evaluate: (f: { coverageBp: number | null; warningLineBp: number; liquidationLineBp: number }) => {
    if (f.coverageBp === null) return null; // unknown coverage is the price rule's business (fail closed there)
    if (f.coverageBp < f.liquidationLineBp) return { severity: 'red', evidence: { ...f, line: 'liquidation' } };
    if (f.coverageBp < f.warningLineBp) return { severity: 'orange', evidence: { ...f, line: 'warning' } };
    return null;
  },
});

export const coverageFallingFast = rule({
  id: 'coverage_falling_fast',
  nameZh: '质押率单日下降过快',
  nameEn: 'Coverage falling faster than X% a day',
  subjectType: 'credit_line',
  defaultSeverity: 'orange',
  params: z.object({ maxDailyDropBp: bp(10_000).default(1_000) }),
  evaluate: (f: { coverageBp: number | null; previousCoverageBp: number | null }, p) => {
    if (f.coverageBp === null || f.previousCoverageBp === null || f.previousCoverageBp <= 0) return null;
    // Compared unrounded (drop / previous > max), so a drop just over the threshold is not rounded away.
    const over = (f.previousCoverageBp - f.coverageBp) * 10_000 > p.maxDailyDropBp * f.previousCoverageBp;
    const dropBp = Math.floor(((f.previousCoverageBp - f.coverageBp) * 10_000) / f.previousCoverageBp);
    return over ? { severity: 'orange', evidence: { ...f, dropBp, maxDailyDropBp: p.maxDailyDropBp } } : null;
  },
});

export const coverageNearBreach = rule({
  id: 'coverage_near_breach',
  nameZh: '质押率接近预警线',
  nameEn: 'Coverage within X points of the warning line',
  subjectType: 'credit_line',
  defaultSeverity: 'yellow',
  params: z.object({ marginBp: bp(10_000).default(500) }),
  evaluate: (f: { coverageBp: number | null; warningLineBp: number }, p) =>
    f.coverageBp !== null && f.coverageBp >= f.warningLineBp && f.coverageBp < f.warningLineBp + p.marginBp ? { severity: 'yellow', evidence: { ...f, marginBp: p.marginBp } } : null,
});

export const unauthorizedOutbound = rule({
  id: 'unauthorized_outbound',
  nameZh: '无放货指令出库（非法转移）',
  nameEn: 'Outbound movements of pledged goods without a release order during T',
  subjectType: 'pledge',
  defaultSeverity: 'red',
  params: z.object({}),
  evaluate: (f: { unauthorizedOutbounds: number; quantity: number }) => (f.unauthorizedOutbounds > 0 ? { severity: 'red', evidence: f } : null),
});

type DiscrepancyFacts = { bookedQuantity: number; sensedQuantity: number; toleranceBp: number; grossGrams?: number; nominalUnitWeightGrams?: number };
/** Short goods are red (挪用/短少); more than booked is orange (a booking error, or goods swapped in: 以次充好). */
const judgeDiscrepancy = (f: DiscrepancyFacts): Finding | null => (outsideTolerance(f) ? { severity: f.sensedQuantity < f.bookedQuantity ? 'red' : 'orange', evidence: f } : null);

export const stockCountDiscrepancy = rule({
  id: 'stock_count_discrepancy',
  nameZh: '盘点数量与账面不符',
  nameEn: 'Stock count off the book beyond tolerance',
  subjectType: 'pledge',
  defaultSeverity: 'red',
  params: z.object({}),
  evaluate: (f: DiscrepancyFacts) => judgeDiscrepancy(f),
});

export const weightDiscrepancy = rule({
  id: 'weight_discrepancy',
  nameZh: '称重与账面不符',
  nameEn: 'Weighed stock off the book beyond tolerance',
  subjectType: 'pledge',
  defaultSeverity: 'red',
  params: z.object({}),
  evaluate: (f: DiscrepancyFacts) => judgeDiscrepancy(f),
});

/**
 * |sensed − booked| > booked × tolerance, in integers: a weighing is compared in grams
 * (gross against booked × nominal unit weight), never as a fractional quantity.
 */
export function outsideTolerance(f: { bookedQuantity: number; sensedQuantity: number; toleranceBp: number; grossGrams?: number | null; nominalUnitWeightGrams?: number }): boolean {
  if (f.grossGrams !== undefined && f.grossGrams !== null && f.nominalUnitWeightGrams) {
    const bookedGrams = f.bookedQuantity * f.nominalUnitWeightGrams;
    return Math.abs(f.grossGrams - bookedGrams) * 10_000 > bookedGrams * f.toleranceBp;
  }
  return Math.abs(f.sensedQuantity - f.bookedQuantity) * 10_000 > f.bookedQuantity * f.toleranceBp;
}

export const deviceOffline = rule({
  id: 'device_offline',
  nameZh: '监管设备离线',
  nameEn: 'Device offline longer than N hours',
  // Raised on each active pledge of the device's warehouse: those are what its silence leaves unwatched.
  subjectType: 'pledge',
  defaultSeverity: 'orange',
  params: z.object({ maxSilentHours: z.number().min(0).max(720).default(6) }),
  evaluate: (f: { silentHours: number }, p) => (f.silentHours > p.maxSilentHours ? { severity: f.silentHours > p.maxSilentHours * 4 ? 'red' : 'orange', evidence: { ...f, maxSilentHours: p.maxSilentHours } } : null),
});

export const priceMissingOrStale = rule({
  id: 'price_missing_or_stale',
  nameZh: '押品价格缺失或过期',
  nameEn: 'Collateral price missing or stale',
  subjectType: 'credit_line',
  defaultSeverity: 'red',
  params: z.object({}),
  evaluate: (f: { missingSkus: string[] }) => (f.missingSkus.length ? { severity: 'red', evidence: f } : null),
});

export const financedInvoiceOverdue = rule({
  id: 'financed_invoice_overdue',
  nameZh: '融资应收账款逾期',
  nameEn: 'A financed invoice overdue past the grace days',
  subjectType: 'invoice',
  defaultSeverity: 'orange',
  params: z.object({ redAfterDays: z.number().int().min(0).default(30) }),
  evaluate: (f: { daysPastDue: number; graceDays: number }, p) =>
    f.daysPastDue > f.graceDays ? { severity: f.daysPastDue - f.graceDays > p.redAfterDays ? 'red' : 'orange', evidence: { ...f, redAfterDays: p.redAfterDays } } : null,
});

export const financedInvoiceCancelledOrDisputed = rule({
  id: 'financed_invoice_cancelled_or_disputed',
  nameZh: '已融资发票被作废或争议',
  nameEn: 'An invoice cancelled or disputed after financing',
  subjectType: 'invoice',
  defaultSeverity: 'red',
  params: z.object({}),
  evaluate: (f: { event: 'financed_invoice_cancelled' | 'financed_invoice_disputed' | 'financed_invoice_impaired' }) =>
    ({ severity: f.event === 'financed_invoice_impaired' ? 'orange' : 'red', evidence: f }) as Finding,
});

export const coreEnterprisePayingLate = rule({
  id: 'core_enterprise_paying_late',
  nameZh: '核心企业付款延迟',
  nameEn: 'The core enterprise paying its confirmed payables late',
  subjectType: 'core_enterprise',
  defaultSeverity: 'orange',
  params: z.object({ maxDaysPastDue: z.number().int().min(0).default(15), maxOverdueShareBp: bp(10_000).default(1_000) }),
  evaluate: (f: { worstDaysPastDue: number; overdueShareBp: number }, p) => {
    const late = f.worstDaysPastDue > p.maxDaysPastDue;
    const share = f.overdueShareBp > p.maxOverdueShareBp;
    if (!late && !share) return null;
    return { severity: late && share ? 'red' : 'orange', evidence: { ...f, ...p } };
  },
});

/** 1+N: every supplier financed under a core enterprise that pays late carries that risk on its own line. */
export const coreEnterpriseLateLinked = rule({
  id: 'core_enterprise_late_linked',
  nameZh: '核心企业付款延迟（关联供应商）',
  nameEn: 'Supplier financed under a core enterprise paying late',
  subjectType: 'credit_line',
  defaultSeverity: 'orange',
  params: z.object({}),
  evaluate: (f: { coreSeverity: Severity; coreEnterpriseOrganizationId: string; outstandingFen: bigint }) =>
    f.outstandingFen > 0n ? { severity: f.coreSeverity, evidence: { coreEnterpriseOrganizationId: f.coreEnterpriseOrganizationId, outstandingFen: f.outstandingFen.toString() } } : null,
});

export const programUtilizationHigh = rule({
  id: 'program_utilization_high',
  nameZh: '项目额度使用率过高',
  nameEn: 'Program limit utilization above X%',
  subjectType: 'program',
  defaultSeverity: 'yellow',
  params: z.object({ maxUtilizationBp: bp(10_000).default(9_000) }),
  evaluate: (f: { outstandingFen: bigint; limitFen: bigint }, p) => utilization(f, p.maxUtilizationBp),
});

/** outstanding / limit above the threshold, compared in integers (no rounding lets 90.004% pass as 90%). */
function utilization(f: { outstandingFen: bigint; limitFen: bigint }, maxUtilizationBp: number): Finding | null {
  if (f.limitFen <= 0n) return null;
  const utilizationBp = Number((f.outstandingFen * 10_000n) / f.limitFen);
  return f.outstandingFen * 10_000n > BigInt(maxUtilizationBp) * f.limitFen ? { severity: 'yellow', evidence: { outstandingFen: f.outstandingFen.toString(), limitFen: f.limitFen.toString(), utilizationBp, maxUtilizationBp } } : null;
}

export const lineUtilizationHigh = rule({
  id: 'line_utilization_high',
  nameZh: '授信额度使用率过高',
  nameEn: 'Credit line utilization above X%',
  subjectType: 'credit_line',
  defaultSeverity: 'yellow',
  params: z.object({ maxUtilizationBp: bp(10_000).default(9_000) }),
  evaluate: (f: { outstandingFen: bigint; limitFen: bigint }, p) => utilization(f, p.maxUtilizationBp),
});

export const lineExpiringWithOutstanding = rule({
  id: 'line_expiring_with_outstanding',
  nameZh: '授信即将到期仍有余额',
  nameEn: 'Line expiring within N days with outstanding',
  subjectType: 'credit_line',
  defaultSeverity: 'yellow',
  params: z.object({ withinDays: z.number().int().min(0).max(365).default(30) }),
  evaluate: (f: { daysToExpiry: number; outstandingFen: bigint }, p) =>
    f.outstandingFen > 0n && f.daysToExpiry <= p.withinDays ? { severity: f.daysToExpiry <= 0 ? 'red' : 'yellow', evidence: { daysToExpiry: f.daysToExpiry, outstandingFen: f.outstandingFen.toString(), withinDays: p.withinDays } } : null,
});

/** Registry change events become signals by this severity table (the diff's hints, overridable per program). */
export const registryChange = rule({
  id: 'registry_change',
  nameZh: '工商/司法/税务变更',
  nameEn: 'Registry, judicial or tax change',
  subjectType: 'enterprise',
  defaultSeverity: 'orange',
  params: z.object({ severities: z.partialRecord(z.enum(Object.keys(changeTypes) as [ChangeType, ...ChangeType[]]), z.enum(['red', 'orange', 'yellow', 'ignore'])).default({}) }),
  evaluate: (f: { type: ChangeType; severityHint: Severity; detail?: unknown }, p) => {
    const chosen = p.severities[f.type] ?? f.severityHint ?? changeTypes[f.type].severity;
    return chosen === 'ignore' ? null : { severity: chosen as Severity, evidence: f };
  },
});

export const registryDataStale = rule({
  id: 'registry_data_stale',
  nameZh: '工商数据未更新',
  nameEn: 'Registry data stale beyond N days',
  subjectType: 'enterprise',
  defaultSeverity: 'yellow',
  params: z.object({ maxAgeDays: z.number().int().min(1).max(365).default(7) }),
  evaluate: (f: { daysSinceSuccess: number | null }, p) =>
    f.daysSinceSuccess === null || f.daysSinceSuccess > p.maxAgeDays ? { severity: f.daysSinceSuccess === null ? 'orange' : 'yellow', evidence: { ...f, maxAgeDays: p.maxAgeDays } } : null,
});

export const repeatedRefusals = rule({
  id: 'repeated_refusals',
  nameZh: '多次重复融资/重复质押尝试',
  nameEn: 'Repeated refused attempts at duplicate financing or double pledging',
  subjectType: 'supplier',
  defaultSeverity: 'orange',
  params: z.object({ minAttempts: z.number().int().min(1).default(2), windowDays: z.number().int().min(1).max(MAX_REFUSAL_WINDOW_DAYS).default(30) }),
  /** refusedAttempts: within the window ending on T (the run counts them per window). */
  evaluate: (f: { refusedAttempts: number }, p) => (f.refusedAttempts >= p.minAttempts ? { severity: f.refusedAttempts >= p.minAttempts * 3 ? 'red' : 'orange', evidence: { ...f, minAttempts: p.minAttempts, windowDays: p.windowDays } } : null),
});

/** A business day with no successful T+1 run: every bank was blind to that night's facts. */
export const warningRunSkipped = rule({
  id: 'warning_run_skipped',
  nameZh: 'T+1预警批处理未执行',
  nameEn: 'No successful T+1 run for a business day',
  subjectType: 'business_day',
  defaultSeverity: 'red',
  params: z.object({}),
  evaluate: (f: { businessDate: string; succeededRuns: number; lastRunStatus: string | null }) => (f.succeededRuns === 0 ? { severity: 'red', evidence: f } : null),
});

export const catalogue = [
  coverageBelowLines,
  coverageFallingFast,
  coverageNearBreach,
  unauthorizedOutbound,
  stockCountDiscrepancy,
  weightDiscrepancy,
  deviceOffline,
  priceMissingOrStale,
  financedInvoiceOverdue,
  financedInvoiceCancelledOrDisputed,
  coreEnterprisePayingLate,
  coreEnterpriseLateLinked,
  lineUtilizationHigh,
  programUtilizationHigh,
  lineExpiringWithOutstanding,
  registryChange,
  registryDataStale,
  repeatedRefusals,
  warningRunSkipped,
] as const;

/** Parameters for a rule: its defaults overridden by a program's settings, validated. */
export function ruleParams<P extends z.ZodTypeAny>(r: { params: P }, overrides: unknown = {}): z.output<P> {
  return r.params.parse(overrides ?? {});
}
