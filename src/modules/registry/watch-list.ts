import { and, eq, isNull, sql } from 'drizzle-orm';
import { registryWatchAdditions } from '../../db/schema';
import type { DbOrTx } from '../../db/client';
import { type Actor, type Ctx, isPlatformWide, requireRole } from '../../lib/context';
import { AppError, notFound } from '../../lib/errors';
import { parseInput } from '../../lib/validation';
import { recordAudit } from '../audit/record-audit';
import { addWatchInput } from './schemas';

export interface WatchEntry {
  creditCode: string;
  name: string | null;
  reasons: string[];
  bankOrganizationIds: string[];
}

/**
 * Who is watched, and why: the core enterprise of every active program and every supplier
 * holding a live line (active or frozen, or still owing) in a program that is not closed,
 * plus what banks added by hand. Derived on every call, so watching stops by itself when
 * nothing links an enterprise to an exposure any more.
 */
export async function computeWatchList(db: DbOrTx, bankOrganizationId?: string): Promise<WatchEntry[]> {
  const bank = bankOrganizationId ? sql`and p.bank_organization_id = ${bankOrganizationId}` : sql``;
  const bankAdd = bankOrganizationId ? sql`and a.bank_organization_id = ${bankOrganizationId}` : sql``;
  const rows = await db.execute<{ credit_code: string; name: string | null; reason: string; bank: string }>(sql`
    select o.credit_code, o.name, 'core enterprise of program ' || p.name as reason, p.bank_organization_id::text as bank
      from programs p join organizations o on o.id = p.core_enterprise_organization_id
     where p.status = 'active' and o.credit_code is not null ${bank}
    union all
    select o.credit_code, o.name, 'supplier with a credit line in program ' || p.name, p.bank_organization_id::text
      from credit_lines l join programs p on p.id = l.program_id join organizations o on o.id = l.supplier_organization_id
     where p.status <> 'closed' and (l.status in ('active', 'frozen') or l.outstanding_fen > 0) and o.credit_code is not null ${bank}
    union all
    select a.credit_code, o.name, 'added by the bank: ' || a.note, a.bank_organization_id::text
      from registry_watch_additions a left join organizations o on o.credit_code = a.credit_code
     where a.removed_at is null ${bankAdd}
    order by 1, 3`);
  const byCode = new Map<string, WatchEntry>();
  for (const r of rows) {
    const entry = byCode.get(r.credit_code) ?? { creditCode: r.credit_code, name: r.name, reasons: [], bankOrganizationIds: [] };
    if (!entry.reasons.includes(r.reason)) entry.reasons.push(r.reason);
    if (!entry.bankOrganizationIds.includes(r.bank)) entry.bankOrganizationIds.push(r.bank);
    entry.name ??= r.name;
    byCode.set(r.credit_code, entry);
  }
  return [...byCode.values()];
}

/**
 * Registry data a caller may read: the platform everything; a bank what its exposures and
 * additions link it to; any other organization its own record.
 */
export async function canSeeEnterprise(db: DbOrTx, actor: Actor, creditCode: string): Promise<boolean> {
  if (isPlatformWide(actor)) return true;
  if (actor.type !== 'user') return false;
  if (actor.organizationKind === 'bank') return (await computeWatchList(db, actor.organizationId)).some((e) => e.creditCode === creditCode);
  const [own] = await db.execute<{ credit_code: string | null }>(sql`select credit_code from organizations where id = ${actor.organizationId}`);
  return own?.credit_code === creditCode;
}

export async function assertCanSeeEnterprise(ctx: Ctx, creditCode: string) {
  if (!(await canSeeEnterprise(ctx.db, ctx.actor, creditCode))) throw notFound('Enterprise');
}

export async function listWatchList({ ctx }: { ctx: Ctx }) {
  requireRole(ctx, ['credit_officer', 'risk_officer', 'platform_admin']);
  const bank = ctx.actor.type === 'user' && !isPlatformWide(ctx.actor) ? ctx.actor.organizationId : undefined;
  const items = await computeWatchList(ctx.db, bank);
  return { items: items.map((i) => ({ creditCode: i.creditCode, name: i.name, reasons: i.reasons })) };
}

/** A bank watches an enterprise it is not lending to (a guarantor, a shareholder). */
export async function addToWatchList({ ctx, input }: { ctx: Ctx; input: unknown }) {
  requireRole(ctx, ['credit_officer', 'risk_officer']);
  const data = parseInput(addWatchInput, input);
  if (ctx.actor.type !== 'user') throw new AppError('forbidden', 'Watch-list additions belong to a bank');
  const bankId = ctx.actor.organizationId;
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(registryWatchAdditions)
      .values({ bankOrganizationId: bankId, creditCode: data.creditCode, note: data.note, createdAt: ctx.clock.now(), createdBy: ctx.actor.type === 'user' ? ctx.actor.userId : 'system' })
      .onConflictDoNothing()
      .returning();
    if (!row) throw new AppError('conflict', `${data.creditCode} is already on your watch list`);
    await recordAudit(tx, ctx, { organizationId: bankId, action: 'registry.watch_added', subjectType: 'enterprise', subjectId: data.creditCode, data: { before: null, after: { note: data.note } } });
    return { creditCode: row.creditCode, note: row.note, createdAt: row.createdAt.toISOString() };
  });
}

/** Removes a bank's own addition; enterprises watched because of an exposure stay watched. */
export async function removeFromWatchList({ ctx, input }: { ctx: Ctx; input: { creditCode: string } }) {
  requireRole(ctx, ['credit_officer', 'risk_officer']);
  if (ctx.actor.type !== 'user') throw new AppError('forbidden', 'Watch-list additions belong to a bank');
  const bankId = ctx.actor.organizationId;
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .update(registryWatchAdditions)
      .set({ removedAt: ctx.clock.now() })
      .where(and(eq(registryWatchAdditions.bankOrganizationId, bankId), eq(registryWatchAdditions.creditCode, input.creditCode), isNull(registryWatchAdditions.removedAt)))
      .returning();
    if (!row) throw notFound('Watch-list addition');
    await recordAudit(tx, ctx, { organizationId: bankId, action: 'registry.watch_removed', subjectType: 'enterprise', subjectId: input.creditCode, data: { before: { note: row.note }, after: null } });
    return { creditCode: row.creditCode, removedAt: row.removedAt!.toISOString() };
  });
}
