import { eq } from 'drizzle-orm';
import { collateralTerms } from '../../db/schema';
import { type Ctx, requireRole } from '../../lib/context';
import { AppError, notFound } from '../../lib/errors';
import { parseInput } from '../../lib/validation';
import { recordAudit } from '../audit/record-audit';
import { loadVisibleProgram } from '../financing/access';
import { requireOwnBank } from './access';
import { toCollateralTerms } from './mappers';
import { collateralTermsInput } from './schemas';

/**
 * Sets a program's coverage lines, price age limit and optional haircut override (a PUT:
 * the whole terms every time). Coverage is judged against them from the next computation on.
 */
export async function setCollateralTerms({ ctx, input }: { ctx: Ctx; input: { programId: string } & Record<string, unknown> }) {
  requireRole(ctx, ['credit_officer']);
  const data = parseInput(collateralTermsInput, input);
  return ctx.db.transaction(async (tx) => {
    const program = await loadVisibleProgram(ctx, input.programId, tx, true);
    requireOwnBank(ctx, program.bankOrganizationId, 'program');
    if (program.status === 'closed') throw new AppError('conflict', 'The program is closed', { extra: { currentStatus: program.status } });
    const [before] = await tx.select().from(collateralTerms).where(eq(collateralTerms.programId, program.id));
    const values = { haircutBp: data.haircutBp ?? null, warningLineBp: data.warningLineBp, liquidationLineBp: data.liquidationLineBp, priceMaxAgeHours: data.priceMaxAgeHours, updatedAt: ctx.clock.now() };
    const [row] = await tx
      .insert(collateralTerms)
      .values({ programId: program.id, ...values })
      .onConflictDoUpdate({ target: collateralTerms.programId, set: values })
      .returning();
    const out = toCollateralTerms(row!);
    await recordAudit(tx, ctx, {
      organizationId: program.bankOrganizationId,
      action: 'collateral_terms.set',
      subjectType: 'program',
      subjectId: program.id,
      data: { before: before ? toCollateralTerms(before) : null, after: out },
    });
    return out;
  });
}

export async function getCollateralTerms({ ctx, input }: { ctx: Ctx; input: { programId: string } }) {
  const program = await loadVisibleProgram(ctx, input.programId);
  const [row] = await ctx.db.select().from(collateralTerms).where(eq(collateralTerms.programId, program.id));
  if (!row) throw notFound('Collateral terms (none set for this program yet)');
  return toCollateralTerms(row);
}
