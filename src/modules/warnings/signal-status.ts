import { and, eq } from 'drizzle-orm';
import { z } from '@hono/zod-openapi';
import { signals, users } from '../../db/schema';
import { actorName, type Ctx, requireRole } from '../../lib/context';
import { AppError } from '../../lib/errors';
import { parseInput } from '../../lib/validation';
import { recordAudit } from '../audit/record-audit';
import { loadVisibleSignal, signalView } from './digest';
import { notifySignal } from './feed';
import { policyOf } from './policies';
import { announceSignal } from './webhooks';

export const acknowledgeInput = z.object({ note: z.string().trim().min(1).max(1000) }).openapi('AcknowledgeSignal');
export const resolveInput = z.object({ resolution: z.enum(['resolved', 'false_positive']), note: z.string().trim().min(1).max(1000) }).openapi('ResolveSignal');
export const assignInput = z
  .object({ assigneeUserId: z.uuid({ message: 'must be a UUID or null' }).nullable().openapi({ description: 'An active risk officer of the signal’s bank; null unassigns' }) })
  .openapi('AssignSignal');

const allowed: Record<string, readonly string[]> = { open: ['acknowledged', 'resolved', 'false_positive'], acknowledged: ['resolved', 'false_positive'], resolved: [], false_positive: [] };

/**
 * A risk officer acknowledges (it is being looked at) or resolves a signal (resolved, or a
 * false positive), always with a note; who and when are kept, audited and announced.
 *
 * Maker-checker on red (复核): when the signal is red and its program's policy asks for it, the
 * first resolution is only a proposal (status unchanged, outcome 'proposed'); a second, other
 * risk officer of the bank confirms it with the same resolution, which closes the signal. Once a
 * proposal stands, closing always takes that second officer, even if the policy changed since.
 */
export async function changeSignalStatus({ ctx, input }: { ctx: Ctx; input: { signalId: string; to: 'acknowledged' | 'resolved' | 'false_positive'; body: unknown } }) {
  requireRole(ctx, ['risk_officer']);
  const note = input.to === 'acknowledged' ? parseInput(acknowledgeInput, input.body).note : parseInput(resolveInput, input.body).note;
  return ctx.db.transaction(async (tx) => {
    const signal = await loadVisibleSignal(ctx, input.signalId, tx, true);
    if (!allowed[signal.status]!.includes(input.to)) {
      throw new AppError('conflict', `The signal is ${signal.status}; it cannot become ${input.to}`, { extra: { currentStatus: signal.status } });
    }
    const now = ctx.clock.now();
    const me = actorName(ctx);
    let confirmed: Record<string, unknown> | null = null;
    if (input.to !== 'acknowledged') {
      // Decided when the signal turned red (sticky): switching the policy off afterwards does not let one officer close it.
      const twoOfficers = !!signal.proposedResolution || (signal.severity === 'red' && (signal.makerChecker || (!!signal.programId && (await policyOf(tx, signal.programId)).makerCheckerOnRed)));
      if (twoOfficers && !signal.proposedResolution) {
        const [row] = await tx.update(signals).set({ proposedResolution: input.to, proposedBy: me, proposedNote: note, proposedAt: now }).where(eq(signals.id, signal.id)).returning();
        await recordAudit(tx, ctx, {
          organizationId: signal.bankOrganizationId,
          action: 'signal.resolution_proposed',
          subjectType: 'signal',
          subjectId: signal.id,
          data: { before: { status: signal.status, proposal: null }, after: { status: signal.status, proposal: { resolution: input.to, proposedBy: me } }, note },
        });
        await notifySignal(tx, { id: signal.id, bankOrganizationId: signal.bankOrganizationId, type: 'signal.updated' });
        return { outcome: 'proposed' as const, signal: signalView(row!) };
      }
      if (twoOfficers) {
        const proposal = { resolution: signal.proposedResolution!, proposedBy: signal.proposedBy, proposedAt: signal.proposedAt?.toISOString() ?? null };
        if (signal.proposedBy === me) {
          throw new AppError('conflict', `You proposed ${signal.proposedResolution} for this red signal; a second risk officer of the bank must confirm it (maker-checker)`, { extra: { proposal } });
        }
        if (signal.proposedResolution !== input.to) {
          throw new AppError('conflict', `The proposal on this signal is ${signal.proposedResolution} (made by ${signal.proposedBy} on ${proposal.proposedAt}); a second officer confirms it with the same resolution, not ${input.to}`, { extra: { proposal } });
        }
        confirmed = { ...proposal, note: signal.proposedNote };
      }
    }
    const [row] = await tx
      .update(signals)
      .set({ status: input.to, statusNote: note, statusChangedBy: ctx.actor.type === 'user' ? ctx.actor.userId : 'system', statusChangedAt: now })
      .where(and(eq(signals.id, signal.id)))
      .returning();
    await recordAudit(tx, ctx, {
      organizationId: signal.bankOrganizationId,
      action: `signal.${input.to}`,
      subjectType: 'signal',
      subjectId: signal.id,
      data: { before: { status: signal.status }, after: { status: input.to }, note, ...(confirmed ? { confirmedProposal: confirmed } : {}) },
    });
    await announceSignal(tx, now, row!, input.to === 'acknowledged' ? 'signal.acknowledged' : 'signal.resolved');
    await notifySignal(tx, { id: row!.id, bankOrganizationId: row!.bankOrganizationId, type: input.to === 'acknowledged' ? 'signal.acknowledged' : 'signal.resolved' });
    return { outcome: 'changed' as const, signal: signalView(row!) };
  });
}

/**
 * A risk officer of the signal's bank hands the signal to a colleague (or takes it back: null).
 * The assignee must be an active risk officer of that same bank. Audited; the live stream shows it.
 */
export async function assignSignal({ ctx, input }: { ctx: Ctx; input: { signalId: string; body: unknown } }) {
  requireRole(ctx, ['risk_officer']);
  const data = parseInput(assignInput, input.body);
  return ctx.db.transaction(async (tx) => {
    const signal = await loadVisibleSignal(ctx, input.signalId, tx, true);
    if (signal.status !== 'open' && signal.status !== 'acknowledged') {
      throw new AppError('conflict', `The signal is ${signal.status}; only an open or acknowledged signal is assigned`, { extra: { currentStatus: signal.status } });
    }
    if (data.assigneeUserId) {
      const [user] = await tx.select({ organizationId: users.organizationId, role: users.role, status: users.status }).from(users).where(eq(users.id, data.assigneeUserId));
      if (!user || user.organizationId !== signal.bankOrganizationId || user.role !== 'risk_officer' || user.status !== 'active') {
        const message = "must be an active risk officer of the signal's bank";
        throw new AppError('validation_failed', `body/assigneeUserId: ${message}`, { errors: [{ path: 'body/assigneeUserId', message }] });
      }
    }
    const [row] = await tx.update(signals).set({ assigneeUserId: data.assigneeUserId }).where(eq(signals.id, signal.id)).returning();
    await recordAudit(tx, ctx, {
      organizationId: signal.bankOrganizationId,
      action: 'signal.assigned',
      subjectType: 'signal',
      subjectId: signal.id,
      data: { before: { assigneeUserId: signal.assigneeUserId }, after: { assigneeUserId: data.assigneeUserId } },
    });
    await notifySignal(tx, { id: signal.id, bankOrganizationId: signal.bankOrganizationId, type: 'signal.updated' });
    return signalView(row!);
  });
}
