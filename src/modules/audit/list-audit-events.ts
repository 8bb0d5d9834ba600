import { and, asc, eq, type SQL } from 'drizzle-orm';
import { z } from '@hono/zod-openapi';
import { auditEvents } from '../../db/schema';
import { afterSeq, seqPageOf } from '../../db/keyset';
import { type Ctx, isPlatformWide } from '../../lib/context';
import { pageQuerySchema, pageSchema } from '../../lib/pagination';
import { parseInput } from '../../lib/validation';

export const listAuditInput = pageQuerySchema.extend({ subjectType: z.string().max(50).optional(), subjectId: z.string().max(100).optional() });
export const auditEventOutput = z
  .object({
    id: z.uuid(),
    organizationId: z.uuid().nullable(),
    actorType: z.string(),
    actorUserId: z.uuid().nullable(),
    action: z.string(),
    subjectType: z.string(),
    subjectId: z.string(),
    data: z.unknown(),
    requestId: z.string().nullable(),
    occurredAt: z.iso.datetime(),
  })
  .openapi('AuditEvent');
export const auditPage = pageSchema(auditEventOutput).openapi('AuditEventPage');

/** Audit rows of the caller's organization (a bank reads everything under its programs). */
export async function listAuditEvents({ ctx, input }: { ctx: Ctx; input: unknown }) {
  const q = parseInput(listAuditInput, input, 'query');
  const where: (SQL | undefined)[] = [afterSeq(auditEvents.seq, q.cursor)];
  if (ctx.actor.type === 'user' && !isPlatformWide(ctx.actor)) where.push(eq(auditEvents.organizationId, ctx.actor.organizationId));
  if (q.subjectType) where.push(eq(auditEvents.subjectType, q.subjectType));
  if (q.subjectId) where.push(eq(auditEvents.subjectId, q.subjectId));
  const rows = await ctx.db.select().from(auditEvents).where(and(...where)).orderBy(asc(auditEvents.seq)).limit(q.limit + 1);
  return seqPageOf(
    rows,
    q.limit,
    (r) => ({
      id: r.id,
      organizationId: r.organizationId,
      actorType: r.actorType,
      actorUserId: r.actorUserId,
      action: r.action,
      subjectType: r.subjectType,
      subjectId: r.subjectId,
      data: r.data,
      requestId: r.requestId,
      occurredAt: r.occurredAt.toISOString(),
    }),
  );
}
