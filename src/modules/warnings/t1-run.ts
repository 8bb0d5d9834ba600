import { and, asc, eq, gt, gte, inArray, lte, sql } from 'drizzle-orm';
import { z } from '@hono/zod-openapi';
import { afterCursor } from '../../db/keyset';
import { decodeCursor, pageOf, pageQuerySchema } from '../../lib/pagination';
import { parseInput } from '../../lib/validation';
import { organizations, signals, warningRunChunks, warningRuns } from '../../db/schema';
import { recordSystemAudit } from '../audit/record-audit';
import { textArray, uuidArray } from '../../db/arrays';
import type { DbOrTx } from '../../db/client';
import { addDays, businessDate, businessDayStart, type Clock } from '../../lib/clock';
import { type Ctx, requireRole } from '../../lib/context';
import { AppError, notFound } from '../../lib/errors';
import { loadRunSettings, type RunSettings } from './policies';
import { type Severity, warningRunSkipped } from './rules';
import { notifySignal } from './feed';
import { raiseSignal } from './signals';
import { announceSignal } from './webhooks';
import { type DayWindow, Findings, judges, type SubjectKind, subjectKinds, subjectsOfDay } from './t1-subjects';

export const CHUNK_SIZE = 200;
export type { SubjectKind };

export function dayWindow(businessDate: string, timeZone: string): DayWindow {
  return { businessDate, from: businessDayStart(businessDate, timeZone), to: businessDayStart(addDays(businessDate, 1), timeZone) };
}

export interface Chunk {
  index: number;
  kind: SubjectKind;
  ids: string[];
}

/**
 * Opens a run for business day T: copies the programs' rule settings (a change made later
 * applies from the next run) and splits T's subjects into chunks of ids, the jobs' payloads.
 */
export async function startWarningRun(db: DbOrTx, clock: Clock, input: { businessDate: string; trigger: 'schedule' | 'api' | 'cli'; timeZone: string }) {
  // Today may be run (to look early, it will run again tonight); a day that has not begun has nothing to judge.
  const today = businessDate(clock.now(), input.timeZone);
  if (input.businessDate > today) {
    throw new AppError('validation_failed', `body/businessDate: ${input.businessDate} has not begun (today is ${today} in ${input.timeZone})`, { errors: [{ path: 'body/businessDate', message: `must not be after ${today}` }] });
  }
  const day = dayWindow(input.businessDate, input.timeZone);
  const subjects = await subjectsOfDay(db, day);
  const chunks: Chunk[] = [];
  for (const kind of subjectKinds) {
    const list = subjects[kind];
    for (let i = 0; i < list.length; i += CHUNK_SIZE) chunks.push({ index: chunks.length, kind, ids: list.slice(i, i + CHUNK_SIZE) });
  }
  const settings = await loadRunSettings(db);
  const now = clock.now();
  const [run] = await db
    .insert(warningRuns)
    .values({ businessDate: input.businessDate, trigger: input.trigger, settings, status: chunks.length ? 'running' : 'succeeded', chunksTotal: chunks.length, startedAt: now, finishedAt: chunks.length ? null : now })
    .returning();
  if (!chunks.length) await closeSkippedNight(db, clock, input.businessDate);
  return { run: run!, chunks };
}

export interface ChunkResult {
  /** False when this chunk had already been done (a retried job after a crash): nothing was raised again. */
  evaluated: boolean;
  raised: { rule: string; severity: Severity; created: boolean }[];
  /** The run, when this chunk was its last one. */
  finishedRun: RunView | null;
}

/**
 * Evaluates one chunk of subjects for day T and raises (or refreshes) their signals, all in
 * one transaction with the chunk's completion row: a worker killed mid-chunk leaves nothing
 * behind and the retried job does it whole; a chunk done once is never counted twice.
 */
export async function evaluateChunk(db: DbOrTx, clock: Clock, input: { runId: string; businessDate: string; timeZone: string; chunkIndex: number; kind: SubjectKind; ids: string[] }): Promise<ChunkResult> {
  const day = dayWindow(input.businessDate, input.timeZone);
  return db.transaction(async (tx) => {
    const [run] = await tx.select({ settings: warningRuns.settings }).from(warningRuns).where(eq(warningRuns.id, input.runId));
    if (!run) throw notFound('Warning run');
    const claimed = await tx
      .insert(warningRunChunks)
      .values({ runId: input.runId, chunkIndex: input.chunkIndex, kind: input.kind, subjects: input.ids.length, signals: 0, finishedAt: clock.now() })
      .onConflictDoNothing()
      .returning();
    if (!claimed.length) return { evaluated: false, raised: [], finishedRun: null };

    const findings = new Findings();
    await judges[input.kind]({ db: tx, day, settings: run.settings as RunSettings, findings }, input.ids);
    // Re-running a day older than the last successful run (a backfill) records what that day showed,
    // but acts on nothing and reopens nothing a later day has already judged.
    // (Only runs of days that were over: a look at today does not make tonight's run a backfill.)
    const [later] = await tx
      .select({ day: warningRuns.businessDate })
      .from(warningRuns)
      .where(and(eq(warningRuns.status, 'succeeded'), gt(warningRuns.businessDate, input.businessDate), sql`${warningRuns.startedAt} >= ((${warningRuns.businessDate}::date + 1)::timestamp at time zone ${input.timeZone})`))
      .limit(1);
    const raised = await raiseFindings(tx, clock.now(), day.businessDate, findings, { backfill: !!later });

    await tx.update(warningRunChunks).set({ signals: raised.length }).where(and(eq(warningRunChunks.runId, input.runId), eq(warningRunChunks.chunkIndex, input.chunkIndex)));
    const finishedRun = await countChunk(tx, clock, input.runId, { subjects: input.ids.length, signals: raised.length, failed: false });
    return { evaluated: true, raised, finishedRun };
  });
}

/**
 * Raises a chunk's findings in key order (two chunks touching the same signals lock them in
 * the same order, never a deadlock); findings linked to another (1+N) go after it.
 */
async function raiseFindings(tx: DbOrTx, at: Date, businessDate: string, findings: Findings, mode: { backfill: boolean }) {
  let entries = [...findings.byKey.entries()].sort(([a, pa], [b, pb]) => Number(!!pa.linkedTo) - Number(!!pb.linkedTo) || (a < b ? -1 : a > b ? 1 : 0));
  if (mode.backfill && entries.length) {
    const judgedLater = await tx.execute<{ key: string }>(sql`
      select rule || '|' || subject_type || '|' || subject_id || '|' || bank_organization_id as key from signals
      where business_date > ${businessDate} and rule = any(${textArray([...new Set(entries.map(([, p]) => p.rule))])})`);
    const later = new Set([...judgedLater].map((r) => r.key));
    entries = entries.filter(([key]) => !later.has(key));
  }
  // Lines about to be frozen are locked first, in id order: two chunks freezing the same lines queue, never deadlock.
  const lines = [...new Set(entries.filter(([, p]) => p.finding.severity === 'red' && p.creditLineId).map(([, p]) => p.creditLineId!))].sort();
  if (lines.length && !mode.backfill) await tx.execute(sql`select id from credit_lines where id = any(${uuidArray(lines)}) order by id for update`);
  const idOf = new Map<string, string>();
  const raised: ChunkResult['raised'] = [];
  for (const [key, p] of entries) {
    const signal = await raiseSignal(tx, at, {
      rule: p.rule,
      subjectType: p.subjectType,
      subjectId: p.subjectId,
      bankOrganizationId: p.bank,
      severity: p.finding.severity,
      evidence: { ...p.finding.evidence, businessDate },
      businessDate,
      programId: p.programId,
      creditLineId: p.creditLineId,
      linkedSignalId: p.linkedTo ? (idOf.get(p.linkedTo) ?? null) : null,
    }, { automaticActions: !mode.backfill });
    idOf.set(key, signal.id);
    raised.push({ rule: p.rule, severity: p.finding.severity, created: signal.created });
  }
  return raised;
}

/** Counts a chunk (done or failed for good) and closes the run with its last chunk. */
async function countChunk(db: DbOrTx, clock: Clock, runId: string, c: { subjects: number; signals: number; failed: boolean }): Promise<RunView | null> {
  const now = clock.now().toISOString();
  const [row] = await db.execute<{ status: string }>(sql`
    update warning_runs set
      chunks_done = chunks_done + ${c.failed ? 0 : 1},
      chunks_failed = chunks_failed + ${c.failed ? 1 : 0},
      failures = failures + ${c.failed ? 1 : 0},
      subjects_evaluated = subjects_evaluated + ${c.subjects},
      signals_raised = signals_raised + ${c.signals},
      status = case when chunks_done + chunks_failed + 1 >= chunks_total then (case when chunks_failed + ${c.failed ? 1 : 0} > 0 then 'failed' else 'succeeded' end) else status end,
      finished_at = case when chunks_done + chunks_failed + 1 >= chunks_total then ${now}::timestamptz else finished_at end
    where id = ${runId}
    returning status`);
  if (!row || row.status === 'running') return null;
  const [finished] = await db.select().from(warningRuns).where(eq(warningRuns.id, runId));
  if (finished!.status === 'succeeded') await closeSkippedNight(db, clock, finished!.businessDate);
  return toRun(finished!);
}

/** A chunk that failed on its last attempt: counted, so the run ends (as failed) instead of running forever. */
export async function recordChunkFailure(db: DbOrTx, clock: Clock, input: { runId: string; chunkIndex: number; kind: SubjectKind }): Promise<RunView | null> {
  return db.transaction(async (tx) => {
    // signals = -1 marks the chunk as failed for good; it holds the place so a late retry cannot count it again.
    const claimed = await tx.insert(warningRunChunks).values({ runId: input.runId, chunkIndex: input.chunkIndex, kind: input.kind, subjects: 0, signals: -1, finishedAt: clock.now() }).onConflictDoNothing().returning();
    if (!claimed.length) return null;
    return countChunk(tx, clock, input.runId, { subjects: 0, signals: 0, failed: true });
  });
}

/** A run that could not be fanned out (Redis refused its jobs): failed, so the night shows as skipped. */
export async function failRun(db: DbOrTx, clock: Clock, runId: string) {
  await db.update(warningRuns).set({ status: 'failed', finishedAt: clock.now() }).where(and(eq(warningRuns.id, runId), eq(warningRuns.status, 'running')));
}

export type RunView = ReturnType<typeof toRun>;
const toRun = (r: typeof warningRuns.$inferSelect & { createdAt?: Date }) => ({
  id: r.id,
  businessDate: r.businessDate,
  trigger: r.trigger,
  status: r.status,
  chunksTotal: r.chunksTotal,
  chunksDone: r.chunksDone,
  chunksFailed: r.chunksFailed,
  subjectsEvaluated: r.subjectsEvaluated,
  signalsRaised: r.signalsRaised,
  failures: r.failures,
  startedAt: r.startedAt.toISOString(),
  finishedAt: r.finishedAt?.toISOString() ?? null,
  durationMs: r.finishedAt ? r.finishedAt.getTime() - r.startedAt.getTime() : null,
});

/** A run and its progress (platform admins and risk officers; runs cover every bank). */
export async function getWarningRun({ ctx, input }: { ctx: Ctx; input: { runId: string } }) {
  requireRole(ctx, ['risk_officer', 'platform_admin']);
  const [row] = await ctx.db.select().from(warningRuns).where(eq(warningRuns.id, input.runId));
  if (!row) throw notFound('Warning run');
  return toRun(row);
}

export const listRunsInput = pageQuerySchema.extend({
  businessDate: z.iso.date().optional(),
  status: z.enum(['running', 'succeeded', 'failed']).optional(),
});

/** The runs, oldest first (filter by business day or status): what ran when, and how it went. */
export async function listWarningRuns({ ctx, input }: { ctx: Ctx; input: unknown }) {
  requireRole(ctx, ['risk_officer', 'platform_admin']);
  const q = parseInput(listRunsInput, input, 'query');
  const rows = await ctx.db
    .select()
    .from(warningRuns)
    .where(and(afterCursor(warningRuns.startedAt, warningRuns.id, decodeCursor(q.cursor)), q.businessDate ? eq(warningRuns.businessDate, q.businessDate) : undefined, q.status ? eq(warningRuns.status, q.status) : undefined))
    .orderBy(asc(warningRuns.startedAt), asc(warningRuns.id))
    .limit(q.limit + 1);
  return pageOf(rows.map((r) => ({ ...r, createdAt: r.startedAt })), q.limit, toRun);
}

/** Runs day T in this process (the CLI), chunk by chunk, reporting progress. */
export async function runDayInProcess(db: DbOrTx, clock: Clock, input: { businessDate: string; timeZone: string; onProgress?: (done: number, total: number) => void }) {
  const { run, chunks } = await startWarningRun(db, clock, { businessDate: input.businessDate, trigger: 'cli', timeZone: input.timeZone });
  let done = 0;
  for (const c of chunks) {
    await evaluateChunk(db, clock, { runId: run.id, businessDate: input.businessDate, timeZone: input.timeZone, chunkIndex: c.index, kind: c.kind, ids: c.ids });
    input.onProgress?.(++done, chunks.length);
  }
  const [finished] = await db.select().from(warningRuns).where(eq(warningRuns.id, run.id));
  return toRun(finished!);
}

/** How far back a skipped night is looked for: older gaps were signalled when they were recent. */
export const SKIPPED_NIGHT_LOOKBACK_DAYS = 7;
/** A run still `running` after this long is stuck (its jobs were lost), not in progress. */
export const STUCK_RUN_HOURS = 6;

/**
 * A business day with no successful run (none started, or every run failed or got stuck) is
 * itself a red signal to every bank: for that night nobody looked. Only runs started after
 * the day ended count (a run of a day still going judges half of it). Days before the first
 * successful run ever are not gaps (a new installation). A day already signalled to a bank is
 * not signalled again, even if someone closed it without re-running the day.
 */
export async function checkSkippedNights(db: DbOrTx, clock: Clock, input: { lastDay: string; timeZone: string }): Promise<string[]> {
  const firstDay = addDays(input.lastDay, -(SKIPPED_NIGHT_LOOKBACK_DAYS - 1));
  const [first] = await db.select({ day: sql<string | null>`min(${warningRuns.businessDate})` }).from(warningRuns).where(eq(warningRuns.status, 'succeeded'));
  if (!first?.day) return [];
  const runs = await db
    .select({ day: warningRuns.businessDate, status: warningRuns.status, startedAt: warningRuns.startedAt })
    .from(warningRuns)
    .where(and(gte(warningRuns.businessDate, firstDay), lte(warningRuns.businessDate, input.lastDay)));
  const banks = await db.select({ id: organizations.id }).from(organizations).where(eq(organizations.kind, 'bank'));
  const now = clock.now();
  const skipped: string[] = [];
  for (let day = firstDay > first.day ? firstDay : addDays(first.day, 1); day <= input.lastDay; day = addDays(day, 1)) {
    const dayEnd = dayWindow(day, input.timeZone).to;
    const ofDay = runs.filter((r) => r.day === day && r.startedAt >= dayEnd).sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime());
    if (ofDay.some((r) => r.status === 'running' && now.getTime() - r.startedAt.getTime() < STUCK_RUN_HOURS * 3_600_000)) continue; // still going
    const succeededRuns = ofDay.filter((r) => r.status === 'succeeded').length;
    const finding = warningRunSkipped.evaluate({ businessDate: day, succeededRuns, lastRunStatus: ofDay[0] ? (ofDay[0].status === 'running' ? 'stuck' : ofDay[0].status) : null }, {});
    if (!finding) continue;
    skipped.push(day);
    const told = new Set((await db.select({ bank: signals.bankOrganizationId }).from(signals).where(and(eq(signals.rule, warningRunSkipped.id), eq(signals.subjectType, 'business_day'), eq(signals.subjectId, day)))).map((r) => r.bank));
    for (const bank of banks) {
      if (told.has(bank.id)) continue;
      await raiseSignal(db, now, { rule: warningRunSkipped.id, subjectType: 'business_day', subjectId: day, bankOrganizationId: bank.id, severity: finding.severity, evidence: { ...finding.evidence, message: `No successful T+1 run for business day ${day}: re-run it (POST /v1/warning-runs or npm run warnings:run -- --date ${day})` }, businessDate: day });
    }
  }
  return skipped;
}

/** Yesterday in the business time zone: the T of a run started now. */
export const yesterday = (clock: Clock, timeZone: string) => addDays(businessDate(clock.now(), timeZone), -1);

/** Open skipped-night signals of a day that now has a successful run (a backfill) are closed by the platform, audited and announced. */
async function closeSkippedNight(db: DbOrTx, clock: Clock, day: string) {
  const now = clock.now();
  const note = `A T+1 run for ${day} succeeded`;
  const closed = await db
    .update(signals)
    .set({ status: 'resolved', statusNote: note, statusChangedBy: 'system:warnings', statusChangedAt: now })
    .where(and(eq(signals.rule, warningRunSkipped.id), eq(signals.subjectType, 'business_day'), eq(signals.subjectId, day), inArray(signals.status, ['open', 'acknowledged'])))
    .returning();
  for (const row of closed) {
    await recordSystemAudit(db, now, 'warnings', { organizationId: row.bankOrganizationId, action: 'signal.resolved', subjectType: 'signal', subjectId: row.id, data: { before: { status: 'open' }, after: { status: 'resolved' }, note } });
    await announceSignal(db, now, row, 'signal.resolved');
    await notifySignal(db, { id: row.id, bankOrganizationId: row.bankOrganizationId, type: 'signal.resolved' });
  }
}
