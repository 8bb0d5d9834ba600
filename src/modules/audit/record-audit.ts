import { auditEvents } from '../../db/schema';
import type { DbOrTx } from '../../db/client';
import type { Ctx } from '../../lib/context';

export interface AuditEntry {
  organizationId: string | null;
  action: string;
  subjectType: string;
  subjectId: string;
  data: Record<string, unknown>;
}

/** Written by a verb inside its own transaction: no change without its audit row. */
export async function recordAudit(tx: DbOrTx, ctx: Ctx, entry: AuditEntry): Promise<void> {
  const { actor } = ctx;
  await tx.insert(auditEvents).values({
    organizationId: entry.organizationId,
    actorType: actor.type === 'user' ? 'user' : `system:${actor.name}`,
    actorUserId: actor.type === 'user' ? actor.userId : null,
    actorOrganizationId: actor.type === 'user' ? actor.organizationId : null,
    action: entry.action,
    subjectType: entry.subjectType,
    subjectId: entry.subjectId,
    data: entry.data,
    requestId: ctx.requestId,
    occurredAt: ctx.clock.now(),
  });
}

/** For what the platform does by itself (a night run, an automatic action): no request, the named system part as actor. */
export async function recordSystemAudit(tx: DbOrTx, at: Date, system: string, entry: AuditEntry): Promise<void> {
  await tx.insert(auditEvents).values({ organizationId: entry.organizationId, actorType: `system:${system}`, action: entry.action, subjectType: entry.subjectType, subjectId: entry.subjectId, data: entry.data, occurredAt: at });
}
