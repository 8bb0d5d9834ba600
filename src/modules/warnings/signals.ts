import { eq, sql } from 'drizzle-orm';
import { creditLines, signals } from '../../db/schema';
import type { DbOrTx } from '../../db/client';
import { applyRedSignalActions } from './actions';
import { notifySignal } from './feed';
import { announceSignal } from './webhooks';

export type SignalSeverity = 'red' | 'orange' | 'yellow';

export interface SignalInput {
  rule: string;
  subjectType: string;
  subjectId: string;
  bankOrganizationId: string | null;
  severity: SignalSeverity;
  evidence: Record<string, unknown>;
  /** The business day it speaks of; real-time rules leave it to the caller's clock day. */
  businessDate?: string | null;
  programId?: string | null;
  creditLineId?: string | null;
  linkedSignalId?: string | null;
}

export type SignalRow = typeof signals.$inferSelect;

/**
 * Raises a signal, or refreshes the open one for the same rule, subject and bank (last seen,
 * evidence, occurrences) instead of piling up duplicates. A signal that is new or has just
 * turned red sets off the program's automatic actions in this same transaction.
 */
export async function raiseSignal(db: DbOrTx, at: Date, s: SignalInput): Promise<{ id: string; created: boolean; severity: SignalSeverity }> {
  if (s.creditLineId && !s.programId) {
    const [line] = await db.select({ programId: creditLines.programId }).from(creditLines).where(eq(creditLines.id, s.creditLineId));
    s = { ...s, programId: line?.programId ?? null };
  }
  const [row] = await db
    .insert(signals)
    .values({ ...s, firstSeenAt: at, lastSeenAt: at })
    .onConflictDoUpdate({
      target: [signals.rule, signals.subjectType, signals.subjectId, signals.bankOrganizationId],
      targetWhere: sql`status in ('open', 'acknowledged')`,
      // Latest evidence, but never a milder severity than already seen: a red shortfall stays red.
      set: {
        lastSeenAt: at,
        evidence: s.evidence,
        occurrences: sql`${signals.occurrences} + 1`,
        businessDate: sql`greatest(${signals.businessDate}, excluded.business_date)`,
        programId: sql`coalesce(excluded.program_id, ${signals.programId})`,
        creditLineId: sql`coalesce(excluded.credit_line_id, ${signals.creditLineId})`,
        linkedSignalId: sql`coalesce(excluded.linked_signal_id, ${signals.linkedSignalId})`,
        severity: sql`case when ${signals.severity} = 'red' or excluded.severity = 'red' then 'red' when ${signals.severity} = 'orange' or excluded.severity = 'orange' then 'orange' else 'yellow' end`,
      },
    })
    .returning({ id: signals.id, created: sql<boolean>`xmax = 0` });
  const created = row!.created;
  const [signal] = await db.select().from(signals).where(eq(signals.id, row!.id));
  if (created) await announceSignal(db, at, signal!, 'signal.raised');
  // Idempotent: a line already frozen stays as it is, an action is recorded once.
  if (signal!.severity === 'red') await applyRedSignalActions(db, at, signal!);
  await notifySignal(db, { id: row!.id, bankOrganizationId: s.bankOrganizationId, type: created ? 'signal.raised' : 'signal.updated' });
  return { id: row!.id, created, severity: signal!.severity };
}
