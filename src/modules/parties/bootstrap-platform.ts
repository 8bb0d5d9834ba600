import { organizations, users } from '../../db/schema';
import type { Ctx } from '../../lib/context';
import { recordAudit } from '../audit/record-audit';
import { insertApiKey } from './create-api-key';

/**
 * First start of an installation: creates the platform operator, its first admin and a
 * key printed once. There is never a default password; if the platform already exists
 * this does nothing and returns null (the unique index on kind='platform' makes two
 * processes starting together safe).
 */
export async function bootstrapPlatform({ ctx, input }: { ctx: Ctx; input: { adminEmail: string } }) {
  return ctx.db.transaction(async (tx) => {
    const now = ctx.clock.now();
    const [org] = await tx
      .insert(organizations)
      .values({ kind: 'platform', name: 'threeflow platform', creditCode: null, createdAt: now, updatedAt: now })
      .onConflictDoNothing()
      .returning();
    if (!org) return null;
    const [admin] = await tx
      .insert(users)
      .values({ organizationId: org.id, email: input.adminEmail, displayName: 'Platform administrator', role: 'platform_admin', createdAt: now })
      .returning();
    await recordAudit(tx, ctx, { organizationId: org.id, action: 'platform.bootstrapped', subjectType: 'organization', subjectId: org.id, data: { adminUserId: admin!.id } });
    const key = await insertApiKey(tx, ctx, { organizationId: org.id, userId: admin!.id, name: 'bootstrap admin key', expiresAt: null });
    return { organizationId: org.id, adminUserId: admin!.id, ...key };
  });
}
