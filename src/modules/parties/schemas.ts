import { z } from '@hono/zod-openapi';
import { creditCodeProblem, normalizeCreditCode } from '../../lib/credit-code';
import { pageQuerySchema, pageSchema } from '../../lib/pagination';
import { organizationKinds, userRoles } from './roles';

export const idParam = (name: string) =>
  z.object({ [name]: z.uuid({ message: 'must be a UUID' }).openapi({ param: { name, in: 'path' } }) });

/** 统一社会信用代码: normalized (trim, full-width → ASCII, upper case), then checksum-validated. */
export const creditCodeSchema = z
  .string()
  .transform(normalizeCreditCode)
  .superRefine((code, ctx) => {
    const problem = creditCodeProblem(code);
    if (problem) ctx.addIssue({ code: 'custom', message: `not a valid unified social credit code: ${problem}` });
  })
  .openapi({ description: 'Unified social credit code (统一社会信用代码, GB 32100-2015)', example: '91350100M000100Y43' });

const creatableKinds = organizationKinds.filter((k) => k !== 'platform') as [string, ...string[]];

export const createOrganizationInput = z
  .object({
    kind: z.enum(creatableKinds as ['bank', 'core_enterprise', 'supplier', 'warehouse']),
    name: z.string().trim().min(1).max(200),
    creditCode: creditCodeSchema,
  })
  .openapi('CreateOrganization');
export type CreateOrganizationInput = z.input<typeof createOrganizationInput>;

export const organizationOutput = z
  .object({
    id: z.uuid(),
    kind: z.enum(organizationKinds),
    name: z.string(),
    creditCode: z.string().nullable(),
    status: z.enum(['active', 'suspended']),
    createdAt: z.iso.datetime(),
  })
  .openapi('Organization');
export type OrganizationOutput = z.infer<typeof organizationOutput>;

export const listOrganizationsInput = pageQuerySchema.extend({ kind: z.enum(organizationKinds).optional() });
export const organizationPage = pageSchema(organizationOutput).openapi('OrganizationPage');

export const createUserInput = z
  .object({
    email: z.email().max(254).transform((e) => e.toLowerCase()),
    displayName: z.string().trim().min(1).max(200),
    role: z.enum(userRoles),
  })
  .openapi('CreateUser');
export type CreateUserInput = z.input<typeof createUserInput>;

export const userOutput = z
  .object({
    id: z.uuid(),
    organizationId: z.uuid(),
    email: z.string(),
    displayName: z.string(),
    role: z.enum(userRoles),
    status: z.enum(['active', 'suspended']),
    createdAt: z.iso.datetime(),
  })
  .openapi('User');
export type UserOutput = z.infer<typeof userOutput>;
export const userPage = pageSchema(userOutput).openapi('UserPage');

export const createApiKeyInput = z
  .object({
    name: z.string().trim().min(1).max(100).openapi({ example: 'ERP connector' }),
    expiresAt: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Optional expiry; a key without one lives until revoked' }),
  })
  .openapi('CreateApiKey');
export type CreateApiKeyInput = z.input<typeof createApiKeyInput>;

export const apiKeyOutput = z
  .object({
    id: z.uuid(),
    organizationId: z.uuid(),
    userId: z.uuid(),
    name: z.string(),
    prefix: z.string().openapi({ description: 'First characters of the key, to tell keys apart' }),
    createdAt: z.iso.datetime(),
    expiresAt: z.iso.datetime().nullable(),
    lastUsedAt: z.iso.datetime().nullable().openapi({ description: 'Updated at most once a minute' }),
    revokedAt: z.iso.datetime().nullable(),
  })
  .openapi('ApiKey');
export type ApiKeyOutput = z.infer<typeof apiKeyOutput>;
export const apiKeyPage = pageSchema(apiKeyOutput).openapi('ApiKeyPage');

export const createdApiKeyOutput = z
  .object({
    apiKey: apiKeyOutput,
    secret: z.string().openapi({ description: 'The key itself. Shown only in this response; store it now.' }),
  })
  .openapi('CreatedApiKey');

export const meOutput = z
  .object({
    user: userOutput,
    organization: organizationOutput,
    apiKey: apiKeyOutput,
  })
  .openapi('Me');
