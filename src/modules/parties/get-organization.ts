import { eq } from 'drizzle-orm';
import { organizations } from '../../db/schema';
import type { DbOrTx } from '../../db/client';
import { type Ctx, canSeeOrganization } from '../../lib/context';
import { notFound } from '../../lib/errors';
import { toOrganization } from './mappers';

/** Loads an organization the caller may see; another tenant's is "not found", never "forbidden". */
export async function loadVisibleOrganization(ctx: Ctx, organizationId: string, db: DbOrTx = ctx.db) {
  if (!canSeeOrganization(ctx.actor, organizationId)) throw notFound('Organization');
  const [row] = await db.select().from(organizations).where(eq(organizations.id, organizationId));
  if (!row) throw notFound('Organization');
  return row;
}

export async function getOrganization({ ctx, input }: { ctx: Ctx; input: { organizationId: string } }) {
  return toOrganization(await loadVisibleOrganization(ctx, input.organizationId));
}
