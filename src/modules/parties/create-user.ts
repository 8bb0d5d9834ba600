import { users } from '../../db/schema';
import { isUniqueViolation } from '../../db/errors';
import { type Ctx, requireRole } from '../../lib/context';
import { AppError, conflict } from '../../lib/errors';
import { parseInput } from '../../lib/validation';
import { recordAudit } from '../audit/record-audit';
import { loadVisibleOrganization } from './get-organization';
import { toUser } from './mappers';
import { roleOrganizationKind } from './roles';
import { type CreateUserInput, createUserInput } from './schemas';

/** Adds a person to an organization with one role that fits the organization's kind. */
export async function createUser({ ctx, input }: { ctx: Ctx; input: { organizationId: string } & CreateUserInput }) {
  requireRole(ctx, ['platform_admin']);
  const data = parseInput(createUserInput, input);
  return ctx.db
    .transaction(async (tx) => {
      const org = await loadVisibleOrganization(ctx, input.organizationId, tx);
      const expectedKind = roleOrganizationKind[data.role];
      if (org.kind !== expectedKind) {
        throw new AppError('validation_failed', `role ${data.role} belongs to a ${expectedKind} organization, not a ${org.kind}`, {
          errors: [{ path: 'body/role', message: `not allowed in a ${org.kind} organization` }],
        });
      }
      const [row] = await tx
        .insert(users)
        .values({ organizationId: org.id, email: data.email, displayName: data.displayName, role: data.role, createdAt: ctx.clock.now() })
        .returning();
      await recordAudit(tx, ctx, {
        organizationId: org.id,
        action: 'user.created',
        subjectType: 'user',
        subjectId: row!.id,
        data: { email: data.email, role: data.role },
      });
      return toUser(row!);
    })
    .catch((e: unknown) => {
      if (isUniqueViolation(e, 'users_email_uq')) throw conflict(`A user with email ${data.email} already exists`);
      throw e;
    });
}
