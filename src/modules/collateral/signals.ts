import { eq, sql } from 'drizzle-orm';
import { signals } from '../../db/schema';
import type { DbOrTx } from '../../db/client';
import { notifySignal } from '../warnings/feed';
import { announceSignal } from '../warnings/webhooks';

export type SignalSeverity = 'red' | 'orange' | 'yellow';

export interface SignalInput {
  rule: string;
  subjectType: string;
  subjectId: string;
  bankOrganizationId: string | null;
  severity: SignalSeverity;
  evidence: Record<string, unknown>;
}

/**
 * Raises a signal, or refreshes the open one for the same rule and subject (last seen,
 * evidence, occurrences) instead of piling up duplicates. Returns whether it is new.
 */
export async function raiseSignal(db: DbOrTx, at: Date, s: SignalInput): Promise<{ id: string; created: boolean }> {
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
        severity: sql`case when ${signals.severity} = 'red' or excluded.severity = 'red' then 'red' when ${signals.severity} = 'orange' or excluded.severity = 'orange' then 'orange' else 'yellow' end`,
      },
    })
    .returning({ id: signals.id, created: sql<boolean>`xmax = 0` });
  // A new signal is announced to the bank's webhook endpoints in this same transaction (outbox).
  if (row!.created) {
    const [signal] = await db.select().from(signals).where(eq(signals.id, row!.id));
    await announceSignal(db, at, signal!, 'signal.raised');
  }
  await notifySignal(db, { id: row!.id, bankOrganizationId: s.bankOrganizationId, type: row!.created ? 'signal.raised' : 'signal.updated' });
  return { id: row!.id, created: row!.created };
}
