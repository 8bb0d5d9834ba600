import { sql } from 'drizzle-orm';
import type { z } from 'zod';
import { textArray, uuidArray } from '../../db/arrays';
import type { DbOrTx } from '../../db/client';
import { daysBetween } from '../../lib/clock';
import { coverageOf, valueCollateral } from '../collateral/coverage';
import { latestPrices } from '../collateral/skus';
import type { ChangeType } from '../registry/diff';
import { computeWatchList } from '../registry/watch-list';
import { paramsFor, type RunSettings } from './policies';
import {
  coreEnterpriseLateLinked,
  coreEnterprisePayingLate,
  coverageBelowLines,
  coverageFallingFast,
  coverageNearBreach,
  deviceOffline,
  financedInvoiceCancelledOrDisputed,
  financedInvoiceOverdue,
  type Finding,
  type Rule,
  lineExpiringWithOutstanding,
  lineUtilizationHigh,
  MAX_REFUSAL_WINDOW_DAYS,
  priceMissingOrStale,
  programUtilizationHigh,
  registryChange,
  registryDataStale,
  repeatedRefusals,
  type Severity,
  stockCountDiscrepancy,
  unauthorizedOutbound,
  weightDiscrepancy,
  worse,
} from './rules';

/*
 * The facts of business day T, gathered per chunk of subjects with a handful of set-based
 * queries (never one query per subject), and judged by the pure rules of the catalogue.
 * Everything is read as it stood at the end of T — journal entries, movements, pledges,
 * ledger versions and prices up to that instant — so re-running an old day judges that day.
 */

export type SubjectKind = 'credit_line' | 'pledge' | 'device' | 'program' | 'core_enterprise' | 'supplier' | 'enterprise' | 'financed_invoice' | 'invoice_event';
export const subjectKinds: readonly SubjectKind[] = ['credit_line', 'pledge', 'device', 'program', 'core_enterprise', 'supplier', 'enterprise', 'financed_invoice', 'invoice_event'];

/** Business day T as instants: [from, to) in the business time zone. */
export interface DayWindow {
  businessDate: string;
  from: Date;
  to: Date;
}

export interface PendingSignal {
  rule: string;
  subjectType: string;
  subjectId: string;
  bank: string;
  programId: string | null;
  creditLineId: string | null;
  /** 1+N: the key of the finding this one is linked to (raised first, its id filled in then). */
  linkedTo?: string;
  finding: Finding;
}

/** Findings of one chunk, merged per (rule, subject, bank): several programs of one bank make one signal, the worst. */
export class Findings {
  readonly byKey = new Map<string, PendingSignal>();
  add(p: Omit<PendingSignal, 'finding'>, finding: Finding | null): string | null {
    if (!finding) return null;
    const key = `${p.rule}|${p.subjectType}|${p.subjectId}|${p.bank}`;
    const had = this.byKey.get(key);
    if (!had) this.byKey.set(key, { ...p, finding });
    else if (worse(had.finding.severity, finding.severity) !== had.finding.severity) this.byKey.set(key, { ...had, finding });
    return key;
  }
}

type Rows<T> = T[];
const iso = (d: Date) => d.toISOString();
/** The earliest refused attempt any program's window can reach back to (each program then applies its own). */
const refusalWindowStart = (day: DayWindow) => new Date(day.to.getTime() - MAX_REFUSAL_WINDOW_DAYS * 86_400_000);
/** The last instant of a day: a price stamped 00:00 on T+1 belongs to T+1. */
const justBefore = (d: Date) => new Date(d.getTime() - 1);
const big = (v: string | null | undefined) => BigInt(v ?? '0');

/** What one evaluation needs: the chunk's subject ids, the day, the run's settings, where findings go. */
export interface Judging {
  db: DbOrTx;
  day: DayWindow;
  settings: RunSettings;
  findings: Findings;
}

/** A rule for a program: its parameters from the run's settings, or nothing when the program switched it off. */
function judge<P extends z.ZodTypeAny, F>(settings: RunSettings, programId: string | null, rule: Rule<P, F>, facts: F): Finding | null {
  const params = paramsFor(settings, programId, rule);
  return params === null ? null : rule.evaluate(facts, params);
}

type LineRow = {
  id: string;
  program_id: string;
  bank_organization_id: string;
  limit_fen: string;
  expires_on: string;
  outstanding_end: string;
  outstanding_prev: string;
  warning_line_bp: number | null;
  liquidation_line_bp: number | null;
  terms_haircut_bp: number | null;
  price_max_age_hours: number | null;
  ever_pledged: boolean;
};
type LotRow = {
  credit_line_id: string;
  created_at: string;
  released_at: string | null;
  sku_id: string;
  sku_code: string;
  sku_haircut_bp: number;
  pledged_quantity: string;
  released_end: string;
  released_prev: string;
  sensed_end: string;
  sensed_prev: string;
};

/**
 * Released at an instant: the outbound movements of the lot, after the pledge was made, that
 * the real-time check matched to a release order (checked, not unauthorized) — movements have
 * a time, a release order's running total does not.
 */
const releasedBefore = (at: Date) =>
  sql`coalesce(sum(-t.signed_quantity) filter (where t.signed_quantity < 0 and t.received_at >= p.created_at and t.received_at < ${iso(at)}::timestamptz and t.checked_at is not null and t.unauthorized_pledge_id is null), 0)::text`;

/** Outstanding at an instant: the immutable journal summed up to it. */
const outstandingAt = (lineId: ReturnType<typeof sql>, at: Date) => sql`coalesce((select sum(j.amount_fen) from credit_line_journal j where j.credit_line_id = ${lineId} and j.created_at < ${iso(at)}::timestamptz), 0)::text`;

/** Credit lines: coverage at the end of T and of T−1, prices, utilization and expiry. */
async function judgeCreditLines(j: Judging, lineIds: string[]) {
  const { db, day, settings, findings } = j;
  const lines: Rows<LineRow> = [
    ...(await db.execute<LineRow>(sql`
      select l.id, l.program_id, l.bank_organization_id, l.limit_fen::text, l.expires_on::text,
        ${outstandingAt(sql`l.id`, day.to)} as outstanding_end, ${outstandingAt(sql`l.id`, day.from)} as outstanding_prev,
        ct.warning_line_bp, ct.liquidation_line_bp, ct.haircut_bp as terms_haircut_bp, ct.price_max_age_hours,
        exists (select 1 from pledges p where p.credit_line_id = l.id and p.created_at < ${iso(day.to)}::timestamptz) as ever_pledged
      from credit_lines l left join collateral_terms ct on ct.program_id = l.program_id
      where l.id = any(${uuidArray(lineIds)})`)),
  ];
  // Lots of pledges alive at either instant, with booked (pledged − released) and sensed (Σ movements) at both.
  const lots: Rows<LotRow> = [
    ...(await db.execute<LotRow>(sql`
      select p.credit_line_id, p.created_at::text, p.released_at::text, pl.sku_id, s.code as sku_code, s.haircut_bp as sku_haircut_bp, pl.pledged_quantity::text,
        m.sensed_end, m.sensed_prev, m.released_end, m.released_prev
      from pledges p join pledge_lots pl on pl.pledge_id = p.id join skus s on s.id = pl.sku_id
      left join lateral (
        select coalesce(sum(t.signed_quantity), 0)::text as sensed_end, coalesce(sum(t.signed_quantity) filter (where t.received_at < ${iso(day.from)}::timestamptz), 0)::text as sensed_prev,
          ${releasedBefore(day.to)} as released_end, ${releasedBefore(day.from)} as released_prev
        from telemetry_events t
        where t.warehouse_id = pl.warehouse_id and t.lot_code = pl.lot_code and t.kind = 'movement' and t.signed_quantity is not null
          and t.received_at < ${iso(day.to)}::timestamptz and (p.released_at is null or t.received_at <= p.released_at)
      ) m on true
      where p.credit_line_id = any(${uuidArray(lineIds)}) and p.created_at < ${iso(day.to)}::timestamptz and (p.released_at is null or p.released_at >= ${iso(day.from)}::timestamptz)`)),
  ];
  const skuIds = [...new Set(lots.map((l) => l.sku_id))];
  const [pricesEnd, pricesPrev] = await Promise.all([latestPrices(db, skuIds, justBefore(day.to)), latestPrices(db, skuIds, justBefore(day.from))]);
  const lotsByLine = new Map<string, LotRow[]>();
  for (const l of lots) (lotsByLine.get(l.credit_line_id) ?? lotsByLine.set(l.credit_line_id, []).get(l.credit_line_id)!).push(l);

  for (const line of lines) {
    const at = { bank: line.bank_organization_id, programId: line.program_id, creditLineId: line.id, subjectType: 'credit_line', subjectId: line.id };
    const outstandingEnd = big(line.outstanding_end);
    const outstandingPrev = big(line.outstanding_prev);
    const lineLots = lotsByLine.get(line.id) ?? [];
    const maxAgeMs = (line.price_max_age_hours ?? 0) * 3_600_000;
    const valueAt = (instant: Date, prices: typeof pricesEnd, end: boolean) => {
      const alive = lineLots.filter((l) => new Date(l.created_at) < instant && (!l.released_at || new Date(l.released_at) >= instant));
      return valueCollateral(
        alive.map((l) => {
          const booked = Number(l.pledged_quantity) - Number(end ? l.released_end : l.released_prev);
          const sensed = Number(end ? l.sensed_end : l.sensed_prev);
          return { skuId: l.sku_id, skuCode: l.sku_code, countedQuantity: Math.max(0, Math.min(sensed, booked)), haircutBp: line.terms_haircut_bp ?? l.sku_haircut_bp };
        }),
        prices,
        instant,
        maxAgeMs,
      );
    };
    // A line that has had collateral is judged even with none left (all released, outstanding remains: coverage 0);
    // a receivables-only line in the same program never had any and is not a collateral case.
    if (line.warning_line_bp !== null && line.liquidation_line_bp !== null && line.ever_pledged && outstandingEnd > 0n) {
      const end = valueAt(day.to, pricesEnd, true);
      const prev = valueAt(day.from, pricesPrev, false);
      const coverageBp = coverageOf(end.collateralValueFen, outstandingEnd, end.missingPrices);
      const previousCoverageBp = coverageOf(prev.collateralValueFen, outstandingPrev, prev.missingPrices);
      const figures = { collateralValueFen: end.collateralValueFen.toString(), outstandingFen: outstandingEnd.toString() };
      const add = (rule: { id: string }, f: Finding | null) => findings.add({ ...at, rule: rule.id }, f && { ...f, evidence: { ...f.evidence, ...figures } });
      add(coverageBelowLines, judge(settings, line.program_id, coverageBelowLines, { coverageBp, warningLineBp: line.warning_line_bp, liquidationLineBp: line.liquidation_line_bp }));
      add(coverageFallingFast, judge(settings, line.program_id, coverageFallingFast, { coverageBp, previousCoverageBp }));
      add(coverageNearBreach, judge(settings, line.program_id, coverageNearBreach, { coverageBp, warningLineBp: line.warning_line_bp }));
      add(priceMissingOrStale, judge(settings, line.program_id, priceMissingOrStale, { missingSkus: end.missingPrices }));
    }
    const figures = { outstandingFen: outstandingEnd, limitFen: big(line.limit_fen) };
    findings.add({ ...at, rule: lineUtilizationHigh.id }, judge(settings, line.program_id, lineUtilizationHigh, figures));
    findings.add({ ...at, rule: lineExpiringWithOutstanding.id }, judge(settings, line.program_id, lineExpiringWithOutstanding, { daysToExpiry: daysBetween(day.businessDate, line.expires_on), outstandingFen: outstandingEnd }));
  }
}

type PledgeLotRow = {
  pledge_id: string;
  bank_organization_id: string;
  credit_line_id: string;
  program_id: string;
  warehouse_id: string;
  lot_code: string;
  zone: string;
  tolerance_bp: number;
  nominal_unit_weight_grams: number;
  booked_end: string;
  created_at: string;
  released_at: string | null;
};

/** Pledges: T's unauthorized outbounds, and T's last count and weighing of each lot against the book. */
async function judgePledges(j: Judging, pledgeIds: string[]) {
  const { db, day, settings, findings } = j;
  const lots = [
    ...(await db.execute<PledgeLotRow>(sql`
      select p.id as pledge_id, p.bank_organization_id, p.credit_line_id, l.program_id, pl.warehouse_id, pl.lot_code, pl.zone, s.tolerance_bp, s.nominal_unit_weight_grams,
        p.created_at::text, p.released_at::text, (pl.pledged_quantity - m.released_end)::text as booked_end
      from pledges p join pledge_lots pl on pl.pledge_id = p.id join skus s on s.id = pl.sku_id join credit_lines l on l.id = p.credit_line_id
      left join lateral (
        select ${releasedBefore(day.to)}::bigint as released_end from telemetry_events t
        where t.warehouse_id = pl.warehouse_id and t.lot_code = pl.lot_code and t.kind = 'movement' and t.signed_quantity is not null and t.received_at < ${iso(day.to)}::timestamptz
      ) m on true
      where p.id = any(${uuidArray(pledgeIds)})`)),
  ];
  const pledgeOf = new Map(lots.map((l) => [l.pledge_id, l]));
  const outbounds = await db.execute<{ pledge_id: string; n: number; quantity: string; first_seq: string; device_id: string }>(sql`
    select unauthorized_pledge_id as pledge_id, count(*)::int as n, sum(-signed_quantity)::text as quantity, min(seq)::text as first_seq, min(device_id::text) as device_id
    from telemetry_events
    where unauthorized_pledge_id = any(${uuidArray(pledgeIds)}) and received_at >= ${iso(day.from)}::timestamptz and received_at < ${iso(day.to)}::timestamptz
    group by unauthorized_pledge_id`);
  for (const o of outbounds) {
    const p = pledgeOf.get(o.pledge_id);
    if (!p) continue;
    const f = judge(settings, p.program_id, unauthorizedOutbound, { unauthorizedOutbounds: o.n, quantity: Number(o.quantity) });
    findings.add({ rule: unauthorizedOutbound.id, subjectType: 'pledge', subjectId: p.pledge_id, bank: p.bank_organization_id, programId: p.program_id, creditLineId: p.credit_line_id }, f);
  }

  // Counts and weighings judge the pledges still alive at the end of T, each against readings taken while it was.
  const alive = lots.filter((l) => !l.released_at || new Date(l.released_at) >= day.to);
  const warehouses = [...new Set(alive.map((l) => l.warehouse_id))];
  if (!warehouses.length) return;
  type Reading = { kind: 'count' | 'weight'; warehouse_id: string; zone: string | null; lot_code: string | null; body: { counts?: { lotCode: string; quantity: number }[]; grossGrams?: number }; received_at: string; device_id: string; seq: string };
  // T's counts and weighings in these warehouses, newest first (count and weight events carry no lot column).
  const readings = [
    ...(await db.execute<Reading>(sql`
      select kind, warehouse_id, body->>'zone' as zone, body->>'lotCode' as lot_code, body, received_at::text, device_id, seq::text
      from telemetry_events
      where warehouse_id = any(${uuidArray(warehouses)}) and lot_code is null and kind in ('count', 'weight')
        and received_at >= ${iso(day.from)}::timestamptz and received_at < ${iso(day.to)}::timestamptz
      order by received_at desc, seq desc`)),
  ];
  const latest = (l: PledgeLotRow, match: (r: Reading) => boolean) => readings.find((r) => r.warehouse_id === l.warehouse_id && new Date(r.received_at) >= new Date(l.created_at) && match(r));
  for (const l of alive) {
    const bookedQuantity = Number(l.booked_end);
    const at = { subjectType: 'pledge', subjectId: l.pledge_id, bank: l.bank_organization_id, programId: l.program_id, creditLineId: l.credit_line_id };
    const count = latest(l, (r) => r.kind === 'count' && r.zone === l.zone);
    if (count) {
      // A pledged lot the count of its zone did not list was counted as zero.
      const sensedQuantity = count.body.counts?.find((c) => c.lotCode === l.lot_code)?.quantity ?? 0;
      const f = judge(settings, l.program_id, stockCountDiscrepancy, { bookedQuantity, sensedQuantity, toleranceBp: l.tolerance_bp });
      findings.add({ ...at, rule: stockCountDiscrepancy.id }, f && { ...f, evidence: { ...f.evidence, lotCode: l.lot_code, countedAt: count.received_at, deviceId: count.device_id, seq: Number(count.seq) } });
    }
    const weighed = latest(l, (r) => r.kind === 'weight' && r.lot_code === l.lot_code && r.body.grossGrams !== undefined);
    if (weighed) {
      const grossGrams = weighed.body.grossGrams!;
      const f = judge(settings, l.program_id, weightDiscrepancy, { bookedQuantity, sensedQuantity: grossGrams / l.nominal_unit_weight_grams, toleranceBp: l.tolerance_bp, grossGrams, nominalUnitWeightGrams: l.nominal_unit_weight_grams });
      findings.add({ ...at, rule: weightDiscrepancy.id }, f && { ...f, evidence: { ...f.evidence, lotCode: l.lot_code, weighedAt: weighed.received_at, deviceId: weighed.device_id, seq: Number(weighed.seq) } });
    }
  }
}

/** Devices: silent at the end of T for longer than the rule allows; raised on every pledge their warehouse holds. */
async function judgeDevices(j: Judging, deviceIds: string[]) {
  const { db, day, settings, findings } = j;
  const rows = await db.execute<{ id: string; name: string; warehouse_id: string; last_heard: string }>(sql`
    select d.id, d.name, d.warehouse_id,
      coalesce((select max(t.received_at) from telemetry_events t where t.device_id = d.id and t.received_at < ${iso(day.to)}::timestamptz), d.created_at)::text as last_heard
    from devices d where d.id = any(${uuidArray(deviceIds)})`);
  const silent = rows.map((d) => ({ ...d, silentHours: (day.to.getTime() - new Date(d.last_heard).getTime()) / 3_600_000 })).filter((d) => d.silentHours > 0);
  if (!silent.length) return;
  const pledgesIn = await db.execute<{ id: string; warehouse_id: string; bank_organization_id: string; credit_line_id: string; program_id: string }>(sql`
    select p.id, p.warehouse_id, p.bank_organization_id, p.credit_line_id, l.program_id
    from pledges p join credit_lines l on l.id = p.credit_line_id
    where p.warehouse_id = any(${uuidArray([...new Set(silent.map((d) => d.warehouse_id))])})
      and p.created_at < ${iso(day.to)}::timestamptz and (p.released_at is null or p.released_at >= ${iso(day.to)}::timestamptz)`);
  for (const d of silent) {
    for (const p of pledgesIn.filter((x) => x.warehouse_id === d.warehouse_id)) {
      const f = judge(settings, p.program_id, deviceOffline, { silentHours: Math.floor(d.silentHours * 100) / 100 });
      findings.add(
        { rule: deviceOffline.id, subjectType: 'pledge', subjectId: p.id, bank: p.bank_organization_id, programId: p.program_id, creditLineId: p.credit_line_id },
        f && { ...f, evidence: { ...f.evidence, deviceId: d.id, deviceName: d.name, lastHeardAt: new Date(d.last_heard).toISOString(), warehouseId: d.warehouse_id } },
      );
    }
  }
}

/** Programs: the whole program's outstanding at the end of T against its limit. */
async function judgePrograms(j: Judging, programIds: string[]) {
  const { db, day, settings, findings } = j;
  const rows = await db.execute<{ id: string; bank_organization_id: string; limit_fen: string; outstanding_end: string }>(sql`
    select p.id, p.bank_organization_id, p.limit_fen::text,
      coalesce((select sum(j.amount_fen) from credit_line_journal j join credit_lines l on l.id = j.credit_line_id where l.program_id = p.id and j.created_at < ${iso(day.to)}::timestamptz), 0)::text as outstanding_end
    from programs p where p.id = any(${uuidArray(programIds)})`);
  for (const p of rows) {
    findings.add({ rule: programUtilizationHigh.id, subjectType: 'program', subjectId: p.id, bank: p.bank_organization_id, programId: p.id, creditLineId: null }, judge(settings, p.id, programUtilizationHigh, { outstandingFen: big(p.outstanding_end), limitFen: big(p.limit_fen) }));
  }
}

/**
 * Core enterprises (核心企业): their confirmed payables as the ERP ledger stood at the end of T
 * (the latest version of each entry received by then). Late → a signal to each bank with a
 * program on it, and 1+N: a linked signal on every line financed under that program.
 */
async function judgeCoreEnterprises(j: Judging, coreIds: string[]) {
  const { db, day, settings, findings } = j;
  const entries = await db.execute<{ core: string; amount_fen: string; credit_note_fen: string; paid_fen: string; due_date: string; status: string }>(sql`
    select distinct on (core_enterprise_organization_id, external_id)
      core_enterprise_organization_id as core, amount_fen::text, credit_note_fen::text, paid_fen::text, due_date::text, status
    from ledger_entries
    where core_enterprise_organization_id = any(${uuidArray(coreIds)}) and received_at < ${iso(day.to)}::timestamptz
    order by core_enterprise_organization_id, external_id, version desc`);
  const facts = new Map<string, { unpaidFen: bigint; overdueFen: bigint; worstDaysPastDue: number; overdueEntries: number }>();
  for (const e of entries) {
    if (e.status === 'paid' || e.status === 'cancelled' || e.status === 'disputed') continue; // disputes are judged as disputes, not as late payment
    const unpaid = big(e.amount_fen) - big(e.credit_note_fen) - big(e.paid_fen);
    if (unpaid <= 0n) continue;
    const f = facts.get(e.core) ?? facts.set(e.core, { unpaidFen: 0n, overdueFen: 0n, worstDaysPastDue: 0, overdueEntries: 0 }).get(e.core)!;
    f.unpaidFen += unpaid;
    const daysPastDue = daysBetween(e.due_date, day.businessDate);
    if (daysPastDue > 0) {
      f.overdueFen += unpaid;
      f.overdueEntries++;
      f.worstDaysPastDue = Math.max(f.worstDaysPastDue, daysPastDue);
    }
  }
  const withFacts = [...facts.keys()];
  if (!withFacts.length) return;
  const programs = await db.execute<{ id: string; bank_organization_id: string; core: string }>(sql`
    select id, bank_organization_id, core_enterprise_organization_id as core from programs
    where core_enterprise_organization_id = any(${uuidArray(withFacts)}) and created_at < ${iso(day.to)}::timestamptz and status <> 'closed'`);
  const lines = await db.execute<{ id: string; program_id: string; bank_organization_id: string; outstanding_end: string }>(sql`
    select l.id, l.program_id, l.bank_organization_id, ${outstandingAt(sql`l.id`, day.to)} as outstanding_end
    from credit_lines l where l.program_id = any(${uuidArray(programs.map((p) => p.id))})`);
  for (const p of programs) {
    const f = facts.get(p.core)!;
    const overdueShareBp = Number((f.overdueFen * 10_000n) / f.unpaidFen);
    const finding = judge(settings, p.id, coreEnterprisePayingLate, { worstDaysPastDue: f.worstDaysPastDue, overdueShareBp });
    const key = findings.add(
      { rule: coreEnterprisePayingLate.id, subjectType: 'core_enterprise', subjectId: p.core, bank: p.bank_organization_id, programId: p.id, creditLineId: null },
      finding && { ...finding, evidence: { ...finding.evidence, unpaidFen: f.unpaidFen.toString(), overdueFen: f.overdueFen.toString(), overdueEntries: f.overdueEntries } },
    );
    if (!key || !finding) continue;
    for (const l of lines.filter((x) => x.program_id === p.id)) {
      const linked = judge(settings, p.id, coreEnterpriseLateLinked, { coreSeverity: finding.severity, coreEnterpriseOrganizationId: p.core, outstandingFen: big(l.outstanding_end) });
      findings.add({ rule: coreEnterpriseLateLinked.id, subjectType: 'credit_line', subjectId: l.id, bank: l.bank_organization_id, programId: p.id, creditLineId: l.id, linkedTo: key }, linked);
    }
  }
}

/** Suppliers: refused duplicate-financing and double-pledge attempts within each program's window ending on T. */
async function judgeSuppliers(j: Judging, supplierIds: string[]) {
  const { db, day, settings, findings } = j;
  const attempts = await db.execute<{ supplier: string; bank: string; type: string; occurred_at: string }>(sql`
    select supplier_organization_id as supplier, bank_organization_id as bank, type, occurred_at::text from financing_events
    where supplier_organization_id = any(${uuidArray(supplierIds)}) and bank_organization_id is not null
      and type in ('duplicate_financing_refused', 'double_pledge_refused')
      and occurred_at >= ${iso(refusalWindowStart(day))}::timestamptz and occurred_at < ${iso(day.to)}::timestamptz`);
  const lines = await db.execute<{ supplier: string; bank: string; program_id: string; id: string }>(sql`
    select supplier_organization_id as supplier, bank_organization_id as bank, program_id, id from credit_lines where supplier_organization_id = any(${uuidArray(supplierIds)})`);
  const pairs = new Map<string, { type: string; occurred_at: string }[]>();
  for (const a of attempts) {
    const k = `${a.supplier}|${a.bank}`;
    (pairs.get(k) ?? pairs.set(k, []).get(k)!).push(a);
  }
  for (const [k, list] of pairs) {
    const [supplier, bank] = k.split('|') as [string, string];
    const contexts = lines.filter((l) => l.supplier === supplier && l.bank === bank);
    for (const c of contexts.length ? contexts : [{ program_id: null, id: null }]) {
      const params = paramsFor(settings, c.program_id, repeatedRefusals);
      if (!params) continue;
      const since = day.to.getTime() - params.windowDays * 86_400_000;
      const inWindow = list.filter((a) => new Date(a.occurred_at).getTime() >= since);
      const f = repeatedRefusals.evaluate({ refusedAttempts: inWindow.length }, params);
      const byType = { duplicateFinancing: inWindow.filter((a) => a.type === 'duplicate_financing_refused').length, doublePledge: inWindow.filter((a) => a.type === 'double_pledge_refused').length };
      findings.add({ rule: repeatedRefusals.id, subjectType: 'supplier', subjectId: supplier, bank, programId: c.program_id, creditLineId: c.id }, f && { ...f, evidence: { ...f.evidence, ...byType } });
    }
  }
}

/** Enterprises on the watch list: T's registry, judicial and tax changes, and data gone stale. */
async function judgeEnterprises(j: Judging, creditCodes: string[]) {
  const { db, day, settings, findings } = j;
  const watch = new Map((await computeWatchList(db)).map((w) => [w.creditCode, w.bankOrganizationIds]));
  // The programs through which each bank watches an enterprise (as core or as a supplier): their settings apply.
  const programs = await db.execute<{ credit_code: string; bank: string; program_id: string }>(sql`
    select o.credit_code, p.bank_organization_id as bank, p.id as program_id from programs p join organizations o on o.id = p.core_enterprise_organization_id where o.credit_code = any(${textArray(creditCodes)})
    union
    select o.credit_code, l.bank_organization_id, l.program_id from credit_lines l join organizations o on o.id = l.supplier_organization_id where o.credit_code = any(${textArray(creditCodes)})`);
  const contextsOf = (code: string, bank: string) => {
    const list = programs.filter((p) => p.credit_code === code && p.bank === bank).map((p) => p.program_id);
    return list.length ? list : [null];
  };
  const events = await db.execute<{ credit_code: string; type: string; severity: Severity; item_key: string; before: unknown; after: unknown; detail: unknown; from_version: number; to_version: number }>(sql`
    select credit_code, type, severity, item_key, before, after, detail, from_version, to_version from registry_change_events
    where credit_code = any(${textArray(creditCodes)}) and detected_at >= ${iso(day.from)}::timestamptz and detected_at < ${iso(day.to)}::timestamptz`);
  // A chattel mortgage (动产抵押) registered by a pledgor whose goods a bank holds here is a double pledge: red for that bank.
  const mortgagors = [...new Set(events.filter((e) => e.type === 'chattel_mortgage_added').map((e) => e.credit_code))];
  const pledgedHere = new Map<string, number>();
  if (mortgagors.length) {
    const rows = await db.execute<{ credit_code: string; bank: string; n: number }>(sql`
      select o.credit_code, p.bank_organization_id as bank, count(*)::int as n
      from pledges p join organizations o on o.id = p.supplier_organization_id
      where o.credit_code = any(${textArray(mortgagors)}) and p.created_at < ${iso(day.to)}::timestamptz and (p.released_at is null or p.released_at >= ${iso(day.to)}::timestamptz)
      group by 1, 2`);
    for (const r of rows) pledgedHere.set(`${r.credit_code}|${r.bank}`, r.n);
  }
  for (const e of events) {
    for (const bank of watch.get(e.credit_code) ?? []) {
      const activePledges = e.type === 'chattel_mortgage_added' ? (pledgedHere.get(`${e.credit_code}|${bank}`) ?? 0) : 0;
      const severityHint: Severity = activePledges > 0 ? 'red' : e.severity;
      for (const programId of contextsOf(e.credit_code, bank)) {
        const f = judge(settings, programId, registryChange, { type: e.type as ChangeType, severityHint, detail: { before: e.before, after: e.after, detail: e.detail, fromVersion: e.from_version, toVersion: e.to_version, ...(activePledges ? { activePledgesWithThisBank: activePledges } : {}) } });
        findings.add({ rule: `registry_${e.type}`, subjectType: 'enterprise', subjectId: `${e.credit_code}:${e.to_version}:${e.item_key}`, bank, programId, creditLineId: null }, f && { ...f, evidence: { ...f.evidence, creditCode: e.credit_code } });
      }
    }
  }
  const fetched = await db.execute<{ credit_code: string; last: string | null }>(sql`
    select credit_code, max(last_success_at)::text as last from registry_fetch_status
    where credit_code = any(${textArray(creditCodes)}) group by credit_code`);
  const lastOf = new Map(fetched.map((f) => [f.credit_code, f.last]));
  for (const code of creditCodes) {
    const last = lastOf.get(code);
    // Only the latest success is kept; one after the end of T (the 01:00 pull) means fresh data.
    const daysSinceSuccess = last ? Math.max(0, Math.floor((day.to.getTime() - new Date(last).getTime()) / 86_400_000)) : null;
    for (const bank of watch.get(code) ?? []) {
      for (const programId of contextsOf(code, bank)) {
        findings.add({ rule: registryDataStale.id, subjectType: 'enterprise', subjectId: code, bank, programId, creditLineId: null }, judge(settings, programId, registryDataStale, { daysSinceSuccess }));
      }
    }
  }
}

/** Financed invoices overdue at the end of T: maturity + the program's grace days passed, not repaid by then. */
async function judgeFinancedInvoices(j: Judging, financedInvoiceIds: string[]) {
  const { db, day, settings, findings } = j;
  const rows = await db.execute<{ invoice_id: string; request_id: string; bank_organization_id: string; credit_line_id: string; program_id: string; maturity_date: string; grace_days: number; invoice_number: string; outstanding_face_fen: string }>(sql`
    select fi.invoice_id, r.id as request_id, r.bank_organization_id, r.credit_line_id, r.program_id, r.maturity_date::text, p.grace_days, i.invoice_number, fi.outstanding_face_fen::text
    from financed_invoices fi join financing_requests r on r.id = fi.financing_request_id join programs p on p.id = r.program_id join invoices i on i.id = fi.invoice_id
    where fi.id = any(${uuidArray(financedInvoiceIds)})`);
  for (const r of rows) {
    const f = judge(settings, r.program_id, financedInvoiceOverdue, { daysPastDue: daysBetween(r.maturity_date, day.businessDate), graceDays: r.grace_days });
    findings.add(
      { rule: financedInvoiceOverdue.id, subjectType: 'invoice', subjectId: r.invoice_id, bank: r.bank_organization_id, programId: r.program_id, creditLineId: r.credit_line_id },
      f && { ...f, evidence: { ...f.evidence, financingRequestId: r.request_id, invoiceNumber: r.invoice_number, maturityDate: r.maturity_date, outstandingFaceFen: r.outstanding_face_fen } },
    );
  }
}

/** T's events on financed invoices: cancelled or disputed in the core enterprise's ledger after financing. */
async function judgeInvoiceEvents(j: Judging, eventIds: string[]) {
  const { db, settings, findings } = j;
  const events = await db.execute<{ type: string; bank_organization_id: string | null; subject_id: string; data: Record<string, unknown>; credit_line_id: string | null; program_id: string | null }>(sql`
    select e.type, e.bank_organization_id, e.subject_id, e.data, l.id as credit_line_id, l.program_id
    from financing_events e left join credit_lines l on l.id::text = e.data->>'creditLineId'
    where e.id = any(${uuidArray(eventIds)})`);
  for (const e of events) {
    if (!e.bank_organization_id) continue;
    const f = judge(settings, e.program_id, financedInvoiceCancelledOrDisputed, { event: e.type as 'financed_invoice_cancelled' | 'financed_invoice_disputed' | 'financed_invoice_impaired' });
    findings.add({ rule: financedInvoiceCancelledOrDisputed.id, subjectType: 'invoice', subjectId: e.subject_id, bank: e.bank_organization_id, programId: e.program_id, creditLineId: e.credit_line_id }, f && { ...f, evidence: { ...f.evidence, ...e.data } });
  }
}

export const judges: Record<SubjectKind, (j: Judging, ids: string[]) => Promise<void>> = {
  credit_line: judgeCreditLines,
  pledge: judgePledges,
  device: judgeDevices,
  program: judgePrograms,
  core_enterprise: judgeCoreEnterprises,
  supplier: judgeSuppliers,
  enterprise: judgeEnterprises,
  financed_invoice: judgeFinancedInvoices,
  invoice_event: judgeInvoiceEvents,
};

/** The subjects of day T, per kind: everything that existed by the end of T and could carry a signal. */
export async function subjectsOfDay(db: DbOrTx, day: DayWindow): Promise<Record<SubjectKind, string[]>> {
  const to = iso(day.to);
  const from = iso(day.from);
  const list = async (q: ReturnType<typeof sql>) => [...(await db.execute<{ id: string }>(q))].map((r) => r.id);
  return {
    credit_line: await list(sql`select id from credit_lines where created_at < ${to}::timestamptz and status <> 'closed' order by id`),
    pledge: await list(sql`select id from pledges where created_at < ${to}::timestamptz and (released_at is null or released_at >= ${from}::timestamptz) order by id`),
    device: await list(sql`select id from devices where created_at < ${to}::timestamptz and status = 'active' order by id`),
    program: await list(sql`select id from programs where created_at < ${to}::timestamptz and status <> 'closed' order by id`),
    core_enterprise: await list(sql`select distinct core_enterprise_organization_id as id from programs where created_at < ${to}::timestamptz and status <> 'closed' order by 1`),
    supplier: await list(sql`
      select distinct supplier_organization_id as id from financing_events
      where type in ('duplicate_financing_refused', 'double_pledge_refused') and supplier_organization_id is not null
        and occurred_at >= ${iso(refusalWindowStart(day))}::timestamptz and occurred_at < ${to}::timestamptz order by 1`),
    enterprise: (await computeWatchList(db)).map((w) => w.creditCode).sort(),
    financed_invoice: await list(sql`
      select fi.id from financed_invoices fi join financing_requests r on r.id = fi.financing_request_id
      where r.value_date <= ${day.businessDate}::date and r.maturity_date < ${day.businessDate}::date
        and (r.status in ('disbursed', 'overdue') or (r.status = 'repaid' and r.updated_at >= ${to}::timestamptz)) order by fi.id`),
    invoice_event: await list(sql`
      select id from financing_events where type in ('financed_invoice_cancelled', 'financed_invoice_disputed', 'financed_invoice_impaired')
        and occurred_at >= ${from}::timestamptz and occurred_at < ${to}::timestamptz order by id`),
  };
}
