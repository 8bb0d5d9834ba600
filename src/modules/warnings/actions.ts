import { and, eq, sql } from 'drizzle-orm';
import { creditLines, signals } from '../../db/schema';
import { recordSystemAudit } from '../audit/record-audit';
import type { DbOrTx } from '../../db/client';
import { policyOf } from './policies';
import type { SignalRow } from './signals';

/**
 * Automatic actions on a red signal (自动处置), when the signal's program asks for them:
 * the credit line is frozen so no new drawdown goes out while the risk is open. Runs in the
 * signal's transaction; a line already frozen (by a person or an earlier signal) is left
 * alone and the action is recorded on the signal once. Unfreezing stays a person's decision.
 */
export async function applyRedSignalActions(tx: DbOrTx, at: Date, signal: SignalRow): Promise<void> {
  if (!signal.programId || !signal.creditLineId) return;
  if (signal.actions.some((a) => a.action === 'credit_line_frozen')) return;
  const policy = await policyOf(tx, signal.programId);
  if (!policy.freezeLineOnRed) return;
  const reason = `Frozen automatically: red signal ${signal.rule} (${signal.id})`;
  const frozen = await tx
    .update(creditLines)
    .set({ status: 'frozen', frozenReason: reason, updatedAt: at })
    .where(and(eq(creditLines.id, signal.creditLineId), eq(creditLines.status, 'active')))
    .returning({ id: creditLines.id, bank: creditLines.bankOrganizationId });
  if (!frozen.length) return;
  await tx
    .update(signals)
    .set({ actions: sql`${signals.actions} || ${JSON.stringify([{ action: 'credit_line_frozen', at: at.toISOString(), detail: { creditLineId: signal.creditLineId } }])}::jsonb` })
    .where(eq(signals.id, signal.id));
  await recordSystemAudit(tx, at, 'warnings', {
    organizationId: frozen[0]!.bank,
    action: 'credit_line.frozen',
    subjectType: 'credit_line',
    subjectId: signal.creditLineId,
    data: { before: { status: 'active' }, after: { status: 'frozen' }, reason, signalId: signal.id },
  });
}
