import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { ctxOf } from '../../http/context';
import { errorResponses, idempotencyHeader, json, jsonBody, writeErrorResponses } from '../../http/responses';
import type { AppDeps, AppEnv } from '../../http/types';
import { pageQuerySchema } from '../../lib/pagination';
import { createApiKey } from './create-api-key';
import { createOrganization } from './create-organization';
import { createUser } from './create-user';
import { getMe } from './get-me';
import { getOrganization } from './get-organization';
import { getUser } from './get-user';
import { listApiKeys } from './list-api-keys';
import { listOrganizations } from './list-organizations';
import { listUsers } from './list-users';
import { revokeApiKey } from './revoke-api-key';
import {
  apiKeyOutput,
  apiKeyPage,
  createApiKeyInput,
  createdApiKeyOutput,
  createOrganizationInput,
  createUserInput,
  idParam,
  listOrganizationsInput,
  meOutput,
  organizationOutput,
  organizationPage,
  userOutput,
  userPage,
} from './schemas';

const tags = ['Parties'];
const orgParam = idParam('organizationId');
const userParam = idParam('userId');
const keyParam = idParam('apiKeyId');

export function registerPartiesRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  app.openapi(
    createRoute({ method: 'get', path: '/v1/me', tags, summary: 'Who am I: the user, organization and key behind this call', responses: { 200: json(meOutput, 'The caller'), ...errorResponses } }),
    async (c) => c.json(await getMe({ ctx: ctxOf(c, deps) }), 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/organizations',
      tags,
      summary: 'Onboard an organization (platform admin)',
      request: { headers: idempotencyHeader, body: jsonBody(createOrganizationInput) },
      responses: { 201: json(organizationOutput, 'Created'), ...writeErrorResponses },
    }),
    async (c) => c.json(await createOrganization({ ctx: ctxOf(c, deps), input: c.req.valid('json') }), 201),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/organizations',
      tags,
      summary: 'List organizations visible to the caller',
      request: { query: listOrganizationsInput },
      responses: { 200: json(organizationPage, 'A page of organizations'), ...errorResponses },
    }),
    async (c) => c.json(await listOrganizations({ ctx: ctxOf(c, deps), input: c.req.valid('query') }), 200),
  );

  app.openapi(
    createRoute({ method: 'get', path: '/v1/organizations/{organizationId}', tags, summary: 'Get an organization', request: { params: orgParam }, responses: { 200: json(organizationOutput, 'The organization'), ...errorResponses } }),
    async (c) => c.json(await getOrganization({ ctx: ctxOf(c, deps), input: c.req.valid('param') as { organizationId: string } }), 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/organizations/{organizationId}/users',
      tags,
      summary: 'Add a user with a role fitting the organization (platform admin)',
      request: { params: orgParam, headers: idempotencyHeader, body: jsonBody(createUserInput) },
      responses: { 201: json(userOutput, 'Created'), ...writeErrorResponses },
    }),
    async (c) => {
      const { organizationId } = c.req.valid('param') as { organizationId: string };
      return c.json(await createUser({ ctx: ctxOf(c, deps), input: { organizationId, ...c.req.valid('json') } }), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/organizations/{organizationId}/users',
      tags,
      summary: "List an organization's users",
      request: { params: orgParam, query: pageQuerySchema },
      responses: { 200: json(userPage, 'A page of users'), ...errorResponses },
    }),
    async (c) => {
      const { organizationId } = c.req.valid('param') as { organizationId: string };
      return c.json(await listUsers({ ctx: ctxOf(c, deps), input: { organizationId, ...c.req.valid('query') } }), 200);
    },
  );

  app.openapi(
    createRoute({ method: 'get', path: '/v1/users/{userId}', tags, summary: 'Get a user', request: { params: userParam }, responses: { 200: json(userOutput, 'The user'), ...errorResponses } }),
    async (c) => c.json(await getUser({ ctx: ctxOf(c, deps), input: c.req.valid('param') as { userId: string } }), 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/users/{userId}/api-keys',
      tags,
      summary: 'Issue an API key (platform admin, or a user for themselves). The secret is returned once.',
      request: { params: userParam, headers: idempotencyHeader, body: jsonBody(createApiKeyInput) },
      responses: { 201: json(createdApiKeyOutput, 'Created; store the secret now'), ...writeErrorResponses },
    }),
    async (c) => {
      const { userId } = c.req.valid('param') as { userId: string };
      return c.json(await createApiKey({ ctx: ctxOf(c, deps), input: { userId, ...c.req.valid('json') } }), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/organizations/{organizationId}/api-keys',
      tags,
      summary: "List an organization's API keys (metadata only)",
      request: { params: orgParam, query: pageQuerySchema },
      responses: { 200: json(apiKeyPage, 'A page of keys'), ...errorResponses },
    }),
    async (c) => {
      const { organizationId } = c.req.valid('param') as { organizationId: string };
      return c.json(await listApiKeys({ ctx: ctxOf(c, deps), input: { organizationId, ...c.req.valid('query') } }), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/api-keys/{apiKeyId}/revoke',
      tags,
      summary: 'Revoke an API key at once (platform admin, or the key owner)',
      request: { params: keyParam, headers: idempotencyHeader },
      responses: { 200: json(apiKeyOutput, 'The revoked key'), ...writeErrorResponses },
    }),
    async (c) => c.json(await revokeApiKey({ ctx: ctxOf(c, deps), input: c.req.valid('param') as { apiKeyId: string } }), 200),
  );
}
