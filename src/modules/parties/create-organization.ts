import { organizations } from '../../db/schema';
import { isUniqueViolation } from '../../db/errors';
import { type Ctx, requireRole } from '../../lib/context';
import { conflict } from '../../lib/errors';
import { parseInput } from '../../lib/validation';
import { recordAudit } from '../audit/record-audit';
import { toOrganization } from './mappers';
import { type CreateOrganizationInput, createOrganizationInput } from './schemas';

/** Onboards an enterprise (bank, core enterprise, supplier, warehouse). Platform admins only. */
export async function createOrganization({ ctx, input }: { ctx: Ctx; input: CreateOrganizationInput }) {
  requireRole(ctx, ['platform_admin']);
  const data = parseInput(createOrganizationInput, input);
  const now = ctx.clock.now();
  try {
    return await ctx.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(organizations)
        .values({ kind: data.kind, name: data.name, creditCode: data.creditCode, createdAt: now, updatedAt: now })
        .returning();
      await recordAudit(tx, ctx, {
        organizationId: row!.id,
        action: 'organization.created',
        subjectType: 'organization',
        subjectId: row!.id,
        data: { kind: data.kind, name: data.name, creditCode: data.creditCode },
      });
      return toOrganization(row!);
    });
  } catch (e) {
    if (isUniqueViolation(e, 'organizations_credit_code_uq')) {
      throw conflict(`An organization with credit code ${data.creditCode} is already registered`, { creditCode: data.creditCode });
    }
    throw e;
  }
}
