import { and, eq, gte, inArray, lt, or, sql } from 'drizzle-orm';
import { creditLines, financingEvents, programs, registryChangeEvents, registryFetchStatus, warningRuns } from '../../db/schema';
import type { DbOrTx } from '../../db/client';
import { addDays, businessDayStart, type Clock, daysBetween } from '../../lib/clock';
import { type Ctx, requireRole } from '../../lib/context';
import { notFound } from '../../lib/errors';
import type { ChangeType } from '../registry/diff';
import { computeWatchList } from '../registry/watch-list';
import { computeCoverage } from '../collateral/coverage';
import { raiseSignal } from './signals';
import {
  coverageBelowLines,
  financedInvoiceCancelledOrDisputed,
  type Finding,
  lineExpiringWithOutstanding,
  lineUtilizationHigh,
  priceMissingOrStale,
  registryChange,
  registryDataStale,
  ruleParams,
  type Severity,
} from './rules';

export const CHUNK_SIZE = 200;
export type SubjectKind = 'credit_line' | 'enterprise' | 'invoice_event';

/** Opens a run for business day T and splits its subjects into chunks of ids (the jobs' payloads). */
export async function startWarningRun(db: DbOrTx, clock: Clock, input: { businessDate: string; trigger: 'schedule' | 'api' | 'cli'; timeZone: string }) {
  const from = businessDayStart(input.businessDate, input.timeZone);
  const to = businessDayStart(addDays(input.businessDate, 1), input.timeZone);
  const lines = await db
    .select({ id: creditLines.id })
    .from(creditLines)
    .where(or(inArray(creditLines.status, ['active', 'frozen']), sql`${creditLines.outstandingFen} > 0`));
  const watched = (await computeWatchList(db)).map((w) => w.creditCode);
  const events = await db.select({ id: financingEvents.id }).from(financingEvents).where(and(gte(financingEvents.occurredAt, from), lt(financingEvents.occurredAt, to)));
  const chunks: { kind: SubjectKind; ids: string[] }[] = [];
  const split = (kind: SubjectKind, ids: string[]) => {
    for (let i = 0; i < ids.length; i += CHUNK_SIZE) chunks.push({ kind, ids: ids.slice(i, i + CHUNK_SIZE) });
  };
  split('credit_line', lines.map((l) => l.id));
  split('enterprise', watched);
  split('invoice_event', events.map((e) => e.id));
  const [run] = await db
    .insert(warningRuns)
    .values({ businessDate: input.businessDate, trigger: input.trigger, status: chunks.length ? 'running' : 'succeeded', chunksTotal: chunks.length, startedAt: clock.now(), finishedAt: chunks.length ? null : clock.now() })
    .returning();
  return { run: run!, chunks };
}

/**
 * Evaluates one chunk of subjects for day T and raises (or refreshes) their signals. A
 * signal is one per rule, subject and bank while open, so re-running a day adds nothing new.
 */
export async function evaluateChunk(db: DbOrTx, clock: Clock, input: { runId: string; businessDate: string; timeZone: string; kind: SubjectKind; ids: string[] }) {
  const endOfDay = businessDayStart(addDays(input.businessDate, 1), input.timeZone);
  const from = businessDayStart(input.businessDate, input.timeZone);
  const now = clock.now();
  let raised = 0;
  const raise = async (rule: string, subjectType: string, subjectId: string, bank: string | null, f: Finding | null) => {
    if (!f || !bank) return;
    await raiseSignal(db, now, { rule, subjectType, subjectId, bankOrganizationId: bank, severity: f.severity, evidence: { ...f.evidence, businessDate: input.businessDate } });
    raised++;
  };

  if (input.kind === 'credit_line') {
    for (const id of input.ids) {
      const [line] = await db.select({ line: creditLines, program: programs }).from(creditLines).innerJoin(programs, eq(programs.id, creditLines.programId)).where(eq(creditLines.id, id));
      if (!line) continue;
      const bank = line.line.bankOrganizationId;
      const coverage = await computeCoverage(db, id, endOfDay);
      if (coverage.warningLineBp !== null && coverage.liquidationLineBp !== null && coverage.outstandingFen > 0n) {
        await raise(coverageBelowLines.id, 'credit_line', id, bank, coverageBelowLines.evaluate({ coverageBp: coverage.coverageBp, warningLineBp: coverage.warningLineBp, liquidationLineBp: coverage.liquidationLineBp }, {}));
      }
      if (coverage.outstandingFen > 0n) await raise(priceMissingOrStale.id, 'credit_line', id, bank, priceMissingOrStale.evaluate({ missingSkus: coverage.missingPrices }, {}));
      await raise(lineUtilizationHigh.id, 'credit_line', id, bank, lineUtilizationHigh.evaluate({ outstandingFen: line.line.outstandingFen, limitFen: line.line.limitFen }, ruleParams(lineUtilizationHigh)));
      await raise(
        lineExpiringWithOutstanding.id,
        'credit_line',
        id,
        bank,
        lineExpiringWithOutstanding.evaluate({ daysToExpiry: daysBetween(input.businessDate, line.line.expiresOn), outstandingFen: line.line.outstandingFen }, ruleParams(lineExpiringWithOutstanding)),
      );
    }
  }

  if (input.kind === 'enterprise') {
    const watch = new Map((await computeWatchList(db)).map((w) => [w.creditCode, w.bankOrganizationIds]));
    const events = await db
      .select()
      .from(registryChangeEvents)
      .where(and(inArray(registryChangeEvents.creditCode, input.ids), gte(registryChangeEvents.detectedAt, from), lt(registryChangeEvents.detectedAt, endOfDay)));
    for (const e of events) {
      const finding = registryChange.evaluate({ type: e.type as ChangeType, severityHint: e.severity as Severity, detail: { before: e.before, after: e.after, detail: e.detail, fromVersion: e.fromVersion, toVersion: e.toVersion } }, ruleParams(registryChange));
      for (const bank of watch.get(e.creditCode) ?? []) await raise(`registry_${e.type}`, 'enterprise', `${e.creditCode}:${e.toVersion}:${e.itemKey}`, bank, finding);
    }
    const fetched = await db.select().from(registryFetchStatus).where(inArray(registryFetchStatus.creditCode, input.ids));
    for (const code of input.ids) {
      const last = fetched.map((f) => f.lastSuccessAt).filter((d): d is Date => !!d).sort((a, b) => b.getTime() - a.getTime())[0];
      const daysSinceSuccess = last ? Math.floor((endOfDay.getTime() - last.getTime()) / 86_400_000) : null;
      for (const bank of watch.get(code) ?? []) await raise(registryDataStale.id, 'enterprise', code, bank, registryDataStale.evaluate({ daysSinceSuccess }, ruleParams(registryDataStale)));
    }
  }

  if (input.kind === 'invoice_event') {
    const events = await db.select().from(financingEvents).where(inArray(financingEvents.id, input.ids));
    for (const e of events) {
      if (e.type === 'duplicate_financing_refused') continue; // counted per supplier by the repeated-refusals rule
      const finding = financedInvoiceCancelledOrDisputed.evaluate({ event: e.type as 'financed_invoice_cancelled' | 'financed_invoice_disputed' | 'financed_invoice_impaired' }, {});
      await raise(financedInvoiceCancelledOrDisputed.id, 'invoice', e.subjectId, e.bankOrganizationId, finding ? { ...finding, evidence: { ...finding.evidence, ...(e.data as object) } } : null);
    }
  }

  await db.execute(sql`
    update warning_runs set
      chunks_done = chunks_done + 1, subjects_evaluated = subjects_evaluated + ${input.ids.length}, signals_raised = signals_raised + ${raised},
      status = case when chunks_done + 1 >= chunks_total then 'succeeded' else status end,
      finished_at = case when chunks_done + 1 >= chunks_total then ${now.toISOString()}::timestamptz else finished_at end
    where id = ${input.runId}`);
  return { raised };
}

export async function recordChunkFailure(db: DbOrTx, runId: string) {
  await db.update(warningRuns).set({ failures: sql`${warningRuns.failures} + 1` }).where(eq(warningRuns.id, runId));
}

const toRun = (r: typeof warningRuns.$inferSelect) => ({ ...r, startedAt: r.startedAt.toISOString(), finishedAt: r.finishedAt?.toISOString() ?? null });

/** A run and its progress (platform admins and risk officers; runs cover every bank). */
export async function getWarningRun({ ctx, input }: { ctx: Ctx; input: { runId: string } }) {
  requireRole(ctx, ['risk_officer', 'platform_admin']);
  const [row] = await ctx.db.select().from(warningRuns).where(eq(warningRuns.id, input.runId));
  if (!row) throw notFound('Warning run');
  return toRun(row);
}

/** Runs day T in this process (the CLI), chunk by chunk, reporting progress. */
export async function runDayInProcess(db: DbOrTx, clock: Clock, input: { businessDate: string; timeZone: string; onProgress?: (done: number, total: number) => void }) {
  const { run, chunks } = await startWarningRun(db, clock, { businessDate: input.businessDate, trigger: 'cli', timeZone: input.timeZone });
  let done = 0;
  for (const c of chunks) {
    await evaluateChunk(db, clock, { runId: run.id, businessDate: input.businessDate, timeZone: input.timeZone, kind: c.kind, ids: c.ids });
    input.onProgress?.(++done, chunks.length);
  }
  const [finished] = await db.select().from(warningRuns).where(eq(warningRuns.id, run.id));
  return toRun(finished!);
}
