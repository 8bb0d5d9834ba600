import { and, eq } from 'drizzle-orm';
import { z } from '@hono/zod-openapi';
import { signals } from '../../db/schema';
import { type Ctx, isPlatformWide, requireRole } from '../../lib/context';
import { AppError, notFound } from '../../lib/errors';
import { parseInput } from '../../lib/validation';
import { recordAudit } from '../audit/record-audit';
import { notifySignal } from './feed';
import { announceSignal } from './webhooks';

export const acknowledgeInput = z.object({ note: z.string().trim().min(1).max(1000) }).openapi('AcknowledgeSignal');
export const resolveInput = z.object({ resolution: z.enum(['resolved', 'false_positive']), note: z.string().trim().min(1).max(1000) }).openapi('ResolveSignal');

const allowed: Record<string, readonly string[]> = { open: ['acknowledged', 'resolved', 'false_positive'], acknowledged: ['resolved', 'false_positive'], resolved: [], false_positive: [] };

/**
 * A risk officer acknowledges (it is being looked at) or resolves a signal (resolved, or a
 * false positive), always with a note; who and when are kept, audited and announced.
 */
export async function changeSignalStatus({ ctx, input }: { ctx: Ctx; input: { signalId: string; to: 'acknowledged' | 'resolved' | 'false_positive'; body: unknown } }) {
  requireRole(ctx, ['risk_officer']);
  const note = input.to === 'acknowledged' ? parseInput(acknowledgeInput, input.body).note : parseInput(resolveInput, input.body).note;
  return ctx.db.transaction(async (tx) => {
    const [signal] = await tx.select().from(signals).where(eq(signals.id, input.signalId)).for('update');
    if (!signal || (ctx.actor.type === 'user' && !isPlatformWide(ctx.actor) && signal.bankOrganizationId !== ctx.actor.organizationId)) throw notFound('Signal');
    if (!allowed[signal.status]!.includes(input.to)) {
      throw new AppError('conflict', `The signal is ${signal.status}; it cannot become ${input.to}`, { extra: { currentStatus: signal.status } });
    }
    const now = ctx.clock.now();
    const [row] = await tx
      .update(signals)
      .set({ status: input.to, statusNote: note, statusChangedBy: ctx.actor.type === 'user' ? ctx.actor.userId : 'system', statusChangedAt: now })
      .where(and(eq(signals.id, signal.id)))
      .returning();
    await recordAudit(tx, ctx, { organizationId: signal.bankOrganizationId, action: `signal.${input.to}`, subjectType: 'signal', subjectId: signal.id, data: { before: { status: signal.status }, after: { status: input.to }, note } });
    await announceSignal(tx, now, row!, input.to === 'acknowledged' ? 'signal.acknowledged' : 'signal.resolved');
    await notifySignal(tx, { id: row!.id, bankOrganizationId: row!.bankOrganizationId, type: input.to === 'acknowledged' ? 'signal.acknowledged' : 'signal.resolved' });
    return { id: row!.id, rule: row!.rule, severity: row!.severity, status: row!.status, statusNote: row!.statusNote, statusChangedBy: row!.statusChangedBy, statusChangedAt: now.toISOString() };
  });
}
