import { and, asc, eq, gte, inArray, isNull, lt, or, type SQL } from 'drizzle-orm';
import { z } from '@hono/zod-openapi';
import { signals } from '../../db/schema';
import type { DbOrTx } from '../../db/client';
import { afterCursor } from '../../db/keyset';
import { addDays, businessDate, businessDayStart } from '../../lib/clock';
import { type Ctx, isPlatformWide, requireRole } from '../../lib/context';
import { notFound } from '../../lib/errors';
import { decodeCursor, pageOf, pageQuerySchema, pageSchema } from '../../lib/pagination';
import { parseInput } from '../../lib/validation';
import type { SignalRow } from './signals';

export const digestInput = z.object({
  date: z.iso.date().optional().openapi({ description: 'Business day T (default: yesterday in BUSINESS_TZ)' }),
  format: z.enum(['json', 'text']).default('json'),
});

const SEVERITY_ORDER = { red: 0, orange: 1, yellow: 2 } as const;

const digestLine = (r: SignalRow) => ({ id: r.id, rule: r.rule, severity: r.severity, status: r.status, subjectType: r.subjectType, subjectId: r.subjectId, firstSeenAt: r.firstSeenAt.toISOString(), occurrences: r.occurrences, evidence: r.evidence });
const textLine = (r: SignalRow) => `[${r.severity.toUpperCase()}] ${r.rule} — ${r.subjectType} ${r.subjectId} — first seen ${r.firstSeenAt.toISOString()}${r.occurrences > 1 ? ` (${r.occurrences}×)` : ''} — ${r.status}`;

/** What business day T raised for the caller's bank (T+1 findings for T, real-time signals first seen during T), worst first, and what is assigned to the caller. */
export async function morningDigest({ ctx, input }: { ctx: Ctx; input: unknown }) {
  requireRole(ctx, ['risk_officer', 'credit_officer']);
  const q = parseInput(digestInput, input, 'query');
  const day = q.date ?? addDays(businessDate(ctx.clock.now(), ctx.businessTz), -1);
  const from = businessDayStart(day, ctx.businessTz);
  const to = businessDayStart(addDays(day, 1), ctx.businessTz);
  const bank = ctx.actor.type === 'user' && !isPlatformWide(ctx.actor) ? ctx.actor.organizationId : null;
  const rows = await ctx.db
    .select()
    .from(signals)
    // The night's findings for T carry T as their business date (raised at 02:00 on T+1); real-time ones count on the day first seen.
    .where(and(bank ? eq(signals.bankOrganizationId, bank) : undefined, or(eq(signals.businessDate, day), and(isNull(signals.businessDate), gte(signals.firstSeenAt, from), lt(signals.firstSeenAt, to)))))
    .orderBy(asc(signals.firstSeenAt));
  // Per officer: what is on their desk, whatever day it came from.
  const mine =
    ctx.actor.type === 'user'
      ? await ctx.db
          .select()
          .from(signals)
          .where(and(eq(signals.assigneeUserId, ctx.actor.userId), inArray(signals.status, ['open', 'acknowledged'])))
          .orderBy(asc(signals.firstSeenAt))
      : [];
  const shown = rows.filter((r) => roleFollows(ctx, r));
  shown.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || a.rule.localeCompare(b.rule));
  const counts = { red: 0, orange: 0, yellow: 0 };
  for (const r of shown) counts[r.severity]++;
  const digest = {
    businessDate: day,
    timeZone: ctx.businessTz,
    from: from.toISOString(),
    to: to.toISOString(),
    counts,
    signals: shown.map(digestLine),
    assignedToYou: mine.map(digestLine),
  };
  if (q.format === 'json') return { format: 'json' as const, digest };
  const lines = [
    `threeflow morning digest — business day ${day} (${ctx.businessTz})`,
    `${shown.length} new signal${shown.length === 1 ? '' : 's'}: ${counts.red} red, ${counts.orange} orange, ${counts.yellow} yellow`,
    '',
    ...shown.map(textLine),
    ...(mine.length ? ['', `assigned to you and still open: ${mine.length}`, ...mine.map(textLine)] : []),
  ];
  return { format: 'text' as const, text: `${lines.join('\n')}\n` };
}

const signalStatuses = ['open', 'acknowledged', 'resolved', 'false_positive'] as const;
const severities = ['red', 'orange', 'yellow'] as const;

/** A signal as every endpoint shows it: list, get, the live stream and the answers to status changes. */
export const signalOutput = z
  .object({
    id: z.uuid(),
    rule: z.string(),
    severity: z.enum(severities),
    status: z.enum(signalStatuses),
    subjectType: z.string(),
    subjectId: z.string(),
    bankOrganizationId: z.uuid().nullable(),
    businessDate: z.string().nullable().openapi({ description: 'Business day the signal speaks of' }),
    programId: z.uuid().nullable(),
    creditLineId: z.uuid().nullable(),
    linkedSignalId: z.uuid().nullable().openapi({ description: "1+N: the core enterprise's signal this one follows from" }),
    assigneeUserId: z.uuid().nullable(),
    evidence: z.record(z.string(), z.unknown()),
    occurrences: z.number().int(),
    firstSeenAt: z.iso.datetime(),
    lastSeenAt: z.iso.datetime(),
    statusNote: z.string().nullable(),
    statusChangedBy: z.string().nullable(),
    statusChangedAt: z.iso.datetime().nullable(),
    proposal: z
      .object({ resolution: z.enum(['resolved', 'false_positive']), proposedBy: z.string(), note: z.string().nullable(), proposedAt: z.iso.datetime() })
      .nullable()
      .openapi({ description: 'Maker-checker on red: the first officer\'s proposed resolution' }),
    makerChecker: z.boolean().openapi({ description: 'Closing it takes two risk officers (red under a program with maker-checker)' }),
    awaitingSecondOfficer: z.boolean().openapi({ description: 'A resolution was proposed and waits for a second risk officer to confirm it' }),
    actions: z.array(z.object({ action: z.string(), at: z.string(), detail: z.unknown().optional() })).openapi({ description: 'What the platform did by itself (e.g. credit_line_frozen)' }),
    links: z.record(z.string(), z.string()).openapi({ description: 'API paths of the objects the signal is about (subject, credit line, its coverage, program, linked signal)' }),
  })
  .openapi('SignalView');
export const signalViewPage = pageSchema(signalOutput).openapi('SignalViewPage');

const open = (status: string) => status === 'open' || status === 'acknowledged';

/** Where to look: the API paths of what a signal is about. */
function linksOf(r: SignalRow): Record<string, string> {
  const links: Record<string, string> = {};
  const subject: Record<string, (id: string) => string> = {
    credit_line: (id) => `/v1/credit-lines/${id}`,
    pledge: (id) => `/v1/pledges/${id}`,
    invoice: (id) => `/v1/invoices/${id}`,
    program: (id) => `/v1/programs/${id}`,
    // enterprise subjects are "code", or "code:version:item" for a change event
    enterprise: (id) => `/v1/registry/enterprises/${id.split(':')[0]}/snapshots`,
    business_day: (id) => `/v1/warning-runs?businessDate=${id}`,
  };
  const toSubject = subject[r.subjectType];
  if (toSubject) links.subject = toSubject(r.subjectId);
  if (r.creditLineId) {
    links.creditLine = `/v1/credit-lines/${r.creditLineId}`;
    links.coverage = `/v1/credit-lines/${r.creditLineId}/coverage`;
  }
  if (r.programId) links.program = `/v1/programs/${r.programId}`;
  if (r.linkedSignalId) links.linkedSignal = `/v1/signals/${r.linkedSignalId}`;
  return links;
}

export function signalView(r: SignalRow): z.infer<typeof signalOutput> {
  return {
    id: r.id,
    rule: r.rule,
    severity: r.severity,
    status: r.status,
    subjectType: r.subjectType,
    subjectId: r.subjectId,
    bankOrganizationId: r.bankOrganizationId,
    businessDate: r.businessDate,
    programId: r.programId,
    creditLineId: r.creditLineId,
    linkedSignalId: r.linkedSignalId,
    assigneeUserId: r.assigneeUserId,
    evidence: r.evidence as Record<string, unknown>,
    occurrences: r.occurrences,
    firstSeenAt: r.firstSeenAt.toISOString(),
    lastSeenAt: r.lastSeenAt.toISOString(),
    makerChecker: r.makerChecker,
    links: linksOf(r),
    statusNote: r.statusNote,
    statusChangedBy: r.statusChangedBy,
    statusChangedAt: r.statusChangedAt?.toISOString() ?? null,
    proposal: r.proposedResolution && r.proposedBy && r.proposedAt ? { resolution: r.proposedResolution, proposedBy: r.proposedBy, note: r.proposedNote, proposedAt: r.proposedAt.toISOString() } : null,
    awaitingSecondOfficer: !!r.proposedResolution && open(r.status),
    actions: r.actions,
  };
}

/** The caller's bank's signal (any, for the platform), or 404 — another bank's signal does not exist for it. */
export async function loadVisibleSignal(ctx: Ctx, signalId: string, db: DbOrTx = ctx.db, lock = false): Promise<SignalRow> {
  const q = db.select().from(signals).where(eq(signals.id, signalId));
  const [row] = lock ? await q.for('update') : await q;
  if (!row || (ctx.actor.type === 'user' && !isPlatformWide(ctx.actor) && row.bankOrganizationId !== ctx.actor.organizationId)) throw notFound('Signal');
  return row;
}

/** One signal of the caller's bank. */
export async function getSignal({ ctx, input }: { ctx: Ctx; input: { signalId: string } }) {
  requireRole(ctx, ['risk_officer', 'credit_officer', 'platform_admin']);
  return signalView(await loadVisibleSignal(ctx, input.signalId));
}

export const listSignalsInput = pageQuerySchema
  .extend({
    status: z.enum(signalStatuses).optional(),
    severity: z.enum(severities).optional(),
    rule: z.string().max(100).optional(),
    businessDate: z.iso.date().optional(),
    assigneeUserId: z.uuid().optional(),
    subjectType: z.string().max(50).optional(),
    subjectId: z.string().max(100).optional(),
    creditLineId: z.uuid().optional(),
    programId: z.uuid().optional(),
  })
  .openapi('ListSignalsQuery');

/** Signals of the caller's bank (the platform: all), filtered; paged by first sighting, which never moves. */
export async function listSignals({ ctx, input }: { ctx: Ctx; input: unknown }) {
  requireRole(ctx, ['risk_officer', 'credit_officer', 'platform_admin']);
  const q = parseInput(listSignalsInput, input, 'query');
  const where: (SQL | undefined)[] = [afterCursor(signals.firstSeenAt, signals.id, decodeCursor(q.cursor))];
  if (ctx.actor.type === 'user' && !isPlatformWide(ctx.actor)) where.push(eq(signals.bankOrganizationId, ctx.actor.organizationId));
  if (q.status) where.push(eq(signals.status, q.status));
  if (q.severity) where.push(eq(signals.severity, q.severity));
  if (q.rule) where.push(eq(signals.rule, q.rule));
  if (q.businessDate) where.push(eq(signals.businessDate, q.businessDate));
  if (q.assigneeUserId) where.push(eq(signals.assigneeUserId, q.assigneeUserId));
  if (q.subjectType) where.push(eq(signals.subjectType, q.subjectType));
  if (q.subjectId) where.push(eq(signals.subjectId, q.subjectId));
  if (q.creditLineId) where.push(eq(signals.creditLineId, q.creditLineId));
  if (q.programId) where.push(eq(signals.programId, q.programId));
  const rows = await ctx.db.select().from(signals).where(and(...where)).orderBy(asc(signals.firstSeenAt), asc(signals.id)).limit(q.limit + 1);
  return pageOf(rows.map((r) => ({ ...r, createdAt: r.firstSeenAt })), q.limit, signalView);
}

/** Per role: a credit officer follows the signals about credit lines (the lines, their pledges, invoices, 1+N links), a risk officer everything. */
function roleFollows(ctx: Ctx, signal: { creditLineId: string | null }): boolean {
  return !(ctx.actor.type === 'user' && ctx.actor.role === 'credit_officer' && !signal.creditLineId);
}

export const streamInput = z.object({
  severity: z
    .string()
    .regex(/^(red|orange|yellow)(,(red|orange|yellow))*$/, 'a comma-separated list of red, orange, yellow')
    .optional()
    .openapi({ description: 'Only these severities, e.g. red,orange' }),
  assignedToMe: z.enum(['true', 'false']).optional().openapi({ description: 'Only signals assigned to the caller' }),
});

/** Whether a changed signal goes to this stream: the caller's role (roleFollows), then the caller's own filters. Per bank is the stream's own check. */
export function streamAccepts(ctx: Ctx, view: z.infer<typeof signalOutput>, filters: z.infer<typeof streamInput>): boolean {
  const { actor } = ctx;
  if (actor.type !== 'user') return true;
  if (!roleFollows(ctx, view)) return false;
  if (filters.severity && !filters.severity.split(',').includes(view.severity)) return false;
  if (filters.assignedToMe === 'true' && view.assigneeUserId !== actor.userId) return false;
  return true;
}
