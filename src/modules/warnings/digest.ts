import { and, asc, eq, gte, lt } from 'drizzle-orm';
import { z } from '@hono/zod-openapi';
import { signals } from '../../db/schema';
import { addDays, businessDate, businessDayStart } from '../../lib/clock';
import { type Ctx, isPlatformWide, requireRole } from '../../lib/context';
import { notFound } from '../../lib/errors';
import { parseInput } from '../../lib/validation';

export const digestInput = z.object({
  date: z.iso.date().optional().openapi({ description: 'Business day T (default: yesterday in BUSINESS_TZ)' }),
  format: z.enum(['json', 'text']).default('json'),
});

const SEVERITY_ORDER = { red: 0, orange: 1, yellow: 2 } as const;

/** What business day T raised for the caller's bank: signals first seen during T, worst first. */
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
    .where(and(bank ? eq(signals.bankOrganizationId, bank) : undefined, gte(signals.firstSeenAt, from), lt(signals.firstSeenAt, to)))
    .orderBy(asc(signals.firstSeenAt));
  rows.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || a.rule.localeCompare(b.rule));
  const counts = { red: 0, orange: 0, yellow: 0 };
  for (const r of rows) counts[r.severity]++;
  const digest = {
    businessDate: day,
    timeZone: ctx.businessTz,
    from: from.toISOString(),
    to: to.toISOString(),
    counts,
    signals: rows.map((r) => ({ id: r.id, rule: r.rule, severity: r.severity, status: r.status, subjectType: r.subjectType, subjectId: r.subjectId, firstSeenAt: r.firstSeenAt.toISOString(), occurrences: r.occurrences, evidence: r.evidence })),
  };
  if (q.format === 'json') return { format: 'json' as const, digest };
  const lines = [
    `threeflow morning digest — business day ${day} (${ctx.businessTz})`,
    `${rows.length} new signal${rows.length === 1 ? '' : 's'}: ${counts.red} red, ${counts.orange} orange, ${counts.yellow} yellow`,
    '',
    ...rows.map((r) => `[${r.severity.toUpperCase()}] ${r.rule} — ${r.subjectType} ${r.subjectId} — first seen ${r.firstSeenAt.toISOString()}${r.occurrences > 1 ? ` (${r.occurrences}×)` : ''} — ${r.status}`),
  ];
  return { format: 'text' as const, text: `${lines.join('\n')}\n` };
}

/** One signal of the caller's bank (for the live stream). */
export async function getSignal({ ctx, input }: { ctx: Ctx; input: { signalId: string } }) {
  const [row] = await ctx.db.select().from(signals).where(eq(signals.id, input.signalId));
  if (!row || (ctx.actor.type === 'user' && !isPlatformWide(ctx.actor) && row.bankOrganizationId !== ctx.actor.organizationId)) throw notFound('Signal');
  return { id: row.id, rule: row.rule, severity: row.severity, status: row.status, subjectType: row.subjectType, subjectId: row.subjectId, evidence: row.evidence, occurrences: row.occurrences, firstSeenAt: row.firstSeenAt.toISOString(), lastSeenAt: row.lastSeenAt.toISOString() };
}
