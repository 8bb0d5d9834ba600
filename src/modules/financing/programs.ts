import { and, asc, eq, or, type SQL } from 'drizzle-orm';
import { organizations, programs } from '../../db/schema';
import { afterCursor } from '../../db/keyset';
import { type Ctx, isPlatformWide, requireRole } from '../../lib/context';
import { AppError } from '../../lib/errors';
import { decodeCursor, pageOf, pageQuerySchema } from '../../lib/pagination';
import { parseInput } from '../../lib/validation';
import { recordAudit } from '../audit/record-audit';
import { loadVisibleProgram } from './access';
import { toProgram } from './mappers';
import { createProgramInput, setProgramStatusInput } from './schemas';

/** A bank's credit officer sets up a program (1+N) with one core enterprise. */
export async function createProgram({ ctx, input }: { ctx: Ctx; input: unknown }) {
  requireRole(ctx, ['credit_officer']);
  const data = parseInput(createProgramInput, input);
  if (ctx.actor.type !== 'user') throw new AppError('forbidden', 'Programs belong to a bank');
  const bankId = ctx.actor.organizationId;
  return ctx.db.transaction(async (tx) => {
    const [core] = await tx.select().from(organizations).where(eq(organizations.id, data.coreEnterpriseOrganizationId));
    if (!core || core.kind !== 'core_enterprise') {
      throw new AppError('validation_failed', 'coreEnterpriseOrganizationId is not a core enterprise on the platform', {
        errors: [{ path: 'body/coreEnterpriseOrganizationId', message: 'no core enterprise with this id' }],
      });
    }
    const now = ctx.clock.now();
    const [row] = await tx
      .insert(programs)
      .values({
        bankOrganizationId: bankId,
        coreEnterpriseOrganizationId: core.id,
        name: data.name,
        limitFen: BigInt(data.limitFen),
        advanceRateBp: data.advanceRateBp,
        maxTenorDays: data.maxTenorDays,
        annualRateBp: data.annualRateBp,
        dayCount: data.dayCount,
        graceDays: data.graceDays,
        autoApprovalThresholdFen: BigInt(data.autoApprovalThresholdFen),
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    const out = toProgram(row!);
    await recordAudit(tx, ctx, { organizationId: bankId, action: 'program.created', subjectType: 'program', subjectId: row!.id, data: { before: null, after: out } });
    return out;
  });
}

export async function listPrograms({ ctx, input }: { ctx: Ctx; input: unknown }) {
  const q = parseInput(pageQuerySchema, input, 'query');
  const cursor = decodeCursor(q.cursor);
  const where: (SQL | undefined)[] = [afterCursor(programs.createdAt, programs.id, cursor)];
  if (ctx.actor.type === 'user' && !isPlatformWide(ctx.actor)) {
    where.push(or(eq(programs.bankOrganizationId, ctx.actor.organizationId), eq(programs.coreEnterpriseOrganizationId, ctx.actor.organizationId)));
  }
  const rows = await ctx.db.select().from(programs).where(and(...where)).orderBy(asc(programs.createdAt), asc(programs.id)).limit(q.limit + 1);
  return pageOf(rows, q.limit, toProgram);
}

export async function getProgram({ ctx, input }: { ctx: Ctx; input: { programId: string } }) {
  return toProgram(await loadVisibleProgram(ctx, input.programId));
}

/** Suspend, reactivate or close a program. Closed is final. */
export async function setProgramStatus({ ctx, input }: { ctx: Ctx; input: { programId: string } & Record<string, unknown> }) {
  requireRole(ctx, ['credit_officer']);
  const data = parseInput(setProgramStatusInput, input);
  return ctx.db.transaction(async (tx) => {
    const program = await loadVisibleProgram(ctx, input.programId, tx, true);
    if (ctx.actor.type === 'user' && program.bankOrganizationId !== ctx.actor.organizationId) throw new AppError('forbidden', "Only the program's bank may change it");
    if (program.status === 'closed' && data.status !== 'closed') {
      throw new AppError('conflict', 'The program is closed; it cannot be reopened', { extra: { currentStatus: program.status } });
    }
    const [row] = await tx.update(programs).set({ status: data.status, updatedAt: ctx.clock.now() }).where(eq(programs.id, program.id)).returning();
    await recordAudit(tx, ctx, {
      organizationId: program.bankOrganizationId,
      action: 'program.status_changed',
      subjectType: 'program',
      subjectId: program.id,
      data: { before: { status: program.status }, after: { status: data.status }, reason: data.reason },
    });
    return toProgram(row!);
  });
}
