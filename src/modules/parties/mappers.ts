import type { apiKeys, organizations, users } from '../../db/schema';
import type { ApiKeyOutput, OrganizationOutput, UserOutput } from './schemas';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export const toOrganization = (row: typeof organizations.$inferSelect): OrganizationOutput => ({
  id: row.id,
  kind: row.kind,
  name: row.name,
  creditCode: row.creditCode,
  status: row.status,
  createdAt: row.createdAt.toISOString(),
});

export const toUser = (row: typeof users.$inferSelect): UserOutput => ({
  id: row.id,
  organizationId: row.organizationId,
  email: row.email,
  displayName: row.displayName,
  role: row.role,
  status: row.status,
  createdAt: row.createdAt.toISOString(),
});

export const toApiKey = (row: typeof apiKeys.$inferSelect): ApiKeyOutput => ({
  id: row.id,
  organizationId: row.organizationId,
  userId: row.userId,
  name: row.name,
  prefix: row.prefix,
  createdAt: row.createdAt.toISOString(),
  expiresAt: iso(row.expiresAt),
  lastUsedAt: iso(row.lastUsedAt),
  revokedAt: iso(row.revokedAt),
});
