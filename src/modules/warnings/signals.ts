import { and, asc, eq, inArray, isNull, like, or, sql } from 'drizzle-orm';
import { creditLines, organizations, pledges, signals } from '../../db/schema';
import { recordSystemAudit } from '../audit/record-audit';
import type { DbOrTx } from '../../db/client';
import { applyRedSignalActions } from './actions';
import { notifySignal } from './feed';
import { policyOf } from './policies';
import { severityRank } from './rules';
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
export async function raiseSignal(db: DbOrTx, at: Date, s: SignalInput, options: { automaticActions?: boolean } = {}): Promise<{ id: string; created: boolean; severity: SignalSeverity }> {
  if (s.creditLineId && !s.programId) {
    const [line] = await db.select({ programId: creditLines.programId }).from(creditLines).where(eq(creditLines.id, s.creditLineId));
    s = { ...s, programId: line?.programId ?? null };
  }
  // The open signal this one would refresh, as it stands: to tell an escalation from a repeat.
  const [before] = await db
    .select({ severity: signals.severity, evidence: signals.evidence })
    .from(signals)
    .where(and(eq(signals.rule, s.rule), eq(signals.subjectType, s.subjectType), eq(signals.subjectId, s.subjectId), s.bankOrganizationId ? eq(signals.bankOrganizationId, s.bankOrganizationId) : isNull(signals.bankOrganizationId), inArray(signals.status, ['open', 'acknowledged'])));
  const [row] = await db
    .insert(signals)
    .values({ ...s, firstSeenAt: at, lastSeenAt: at })
    .onConflictDoUpdate({
      target: [signals.rule, signals.subjectType, signals.subjectId, signals.bankOrganizationId],
      targetWhere: sql`status in ('open', 'acknowledged')`,
      // Latest evidence, but never a milder severity than already seen: a red shortfall stays red.
      set: {
        lastSeenAt: at,
        // A backfill of an older day does not overwrite the evidence of a later one.
        evidence: sql`case when ${signals.businessDate} is null or excluded.business_date is null or excluded.business_date >= ${signals.businessDate} then excluded.evidence else ${signals.evidence} end`,
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
  let [signal] = await db.select().from(signals).where(eq(signals.id, row!.id));
  // Turning worse (orange → red) is news for the bank, like a new signal.
  const escalated = !created && !!before && severityRank(signal!.severity) < severityRank(before.severity);
  if (signal!.proposedResolution && before && !sameFacts(before.evidence, signal!.evidence)) {
    // Maker-checker: a resolution proposed on other facts is not one a second officer may confirm now.
    const dropped = { resolution: signal!.proposedResolution, proposedBy: signal!.proposedBy, note: signal!.proposedNote };
    [signal] = await db.update(signals).set({ proposedResolution: null, proposedBy: null, proposedNote: null, proposedAt: null }).where(eq(signals.id, signal!.id)).returning();
    await recordSystemAudit(db, at, 'warnings', { organizationId: signal!.bankOrganizationId, action: 'signal.proposal_withdrawn', subjectType: 'signal', subjectId: signal!.id, data: { before: { proposal: dropped }, after: { proposal: null }, reason: 'new evidence' } });
  }
  if (signal!.severity === 'red' && !signal!.makerChecker && (await makerCheckerApplies(db, signal!))) {
    [signal] = await db.update(signals).set({ makerChecker: true }).where(eq(signals.id, signal!.id)).returning();
  }
  if (created) await announceSignal(db, at, signal!, 'signal.raised');
  else if (escalated) await announceSignal(db, at, signal!, 'signal.escalated');
  // Idempotent: a line already frozen stays as it is, an action is recorded once.
  if (signal!.severity === 'red' && options.automaticActions !== false) await applyRedSignalActions(db, at, signal!);
  await notifySignal(db, { id: row!.id, bankOrganizationId: s.bankOrganizationId, type: created ? 'signal.raised' : escalated ? 'signal.escalated' : 'signal.updated' });
  return { id: row!.id, created, severity: signal!.severity };
}

/** The same facts, whichever night restated them (the business date alone does not make news). */
function sameFacts(a: unknown, b: unknown): boolean {
  const strip = (e: unknown) => JSON.stringify({ ...(e as Record<string, unknown>), businessDate: undefined });
  return strip(a) === strip(b);
}

/**
 * Whether closing this red signal takes two officers: its own program asks for it, or — for a
 * signal about a supplier, its registry record or a core enterprise, which stands against
 * lines in several programs of the bank — any of those programs does.
 */
async function makerCheckerApplies(db: DbOrTx, signal: SignalRow): Promise<boolean> {
  if (!signal.bankOrganizationId) return false;
  const code = signal.subjectType === 'enterprise' ? signal.subjectId.split(':')[0]! : null;
  const [row] = await db.execute<{ applies: boolean }>(sql`
    select exists (
      select 1 from warning_policies wp
      where wp.maker_checker_on_red and (
        wp.program_id = ${signal.programId}
        or wp.program_id in (
          select l.program_id from credit_lines l left join organizations o on o.id = l.supplier_organization_id
          where l.bank_organization_id = ${signal.bankOrganizationId}
            and ((${signal.subjectType} = 'supplier' and l.supplier_organization_id::text = ${signal.subjectId}) or (${code}::text is not null and o.credit_code = ${code}))
          union
          select p.id from programs p where p.bank_organization_id = ${signal.bankOrganizationId} and ${signal.subjectType} = 'core_enterprise' and p.core_enterprise_organization_id::text = ${signal.subjectId}
        )
      )
    ) as applies`);
  return !!row?.applies;
}

/**
 * Red signals, open or acknowledged, that stand against a credit line: raised on the line or
 * anything tied to it (its pledges, invoices, 1+N link), on its supplier (repeated refusals),
 * or on the supplier's registry record (dishonest debtor, deregistration…) — for that bank.
 */
export async function openRedSignalsAgainst(db: DbOrTx, creditLineId: string) {
  const [line] = await db
    .select({ bank: creditLines.bankOrganizationId, supplier: creditLines.supplierOrganizationId, creditCode: organizations.creditCode })
    .from(creditLines)
    .innerJoin(organizations, eq(organizations.id, creditLines.supplierOrganizationId))
    .where(eq(creditLines.id, creditLineId));
  if (!line) return [];
  return db
    .select({ id: signals.id, rule: signals.rule })
    .from(signals)
    .where(
      and(
        eq(signals.bankOrganizationId, line.bank),
        eq(signals.severity, 'red'),
        inArray(signals.status, ['open', 'acknowledged']),
        or(
          eq(signals.creditLineId, creditLineId),
          and(eq(signals.subjectType, 'credit_line'), eq(signals.subjectId, creditLineId)),
          and(eq(signals.subjectType, 'pledge'), inArray(signals.subjectId, db.select({ id: sql<string>`${pledges.id}::text` }).from(pledges).where(eq(pledges.creditLineId, creditLineId)))),
          and(eq(signals.subjectType, 'supplier'), eq(signals.subjectId, line.supplier)),
          line.creditCode ? and(eq(signals.subjectType, 'enterprise'), or(eq(signals.subjectId, line.creditCode), like(signals.subjectId, `${line.creditCode}:%`))) : undefined,
        ),
      ),
    )
    .orderBy(asc(signals.firstSeenAt), asc(signals.id));
}

/** With the program's blockReleaseOnRed, the red signals that stop goods of this pledge's line leaving (none otherwise). */
export async function releaseBlockedBy(db: DbOrTx, pledge: { creditLineId: string }) {
  const [line] = await db.select({ programId: creditLines.programId }).from(creditLines).where(eq(creditLines.id, pledge.creditLineId));
  if (!line || !(await policyOf(db, line.programId)).blockReleaseOnRed) return [];
  return openRedSignalsAgainst(db, pledge.creditLineId);
}
