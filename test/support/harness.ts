import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { MqttClient } from 'mqtt';
import postgres from 'postgres';
import { afterAll, inject } from 'vitest';
import { migrateDatabase } from '../../src/db/migrate';
import { createApp } from '../../src/app';
import { connectDatabase, type Database } from '../../src/db/client';
import { createMetrics } from '../../src/http/metrics';
import type { AppDeps } from '../../src/http/types';
import { connectMqtt, endMqtt } from '../../src/ingest/mqtt-client';
import { systemClock, type Clock } from '../../src/lib/clock';
import type { Ctx } from '../../src/lib/context';
import { createLogger } from '../../src/lib/logger';
import { creditCodeCheckCharacter } from '../../src/lib/credit-code';
import { bootstrapPlatform } from '../../src/modules/parties/bootstrap-platform';
import { createApiKey } from '../../src/modules/parties/create-api-key';
import { createOrganization } from '../../src/modules/parties/create-organization';
import { createUser } from '../../src/modules/parties/create-user';
import { roleOrganizationKind, type OrganizationKind, type UserRole } from '../../src/modules/parties/roles';
import { testServices, withDatabase } from './services';

/** Set TEST_LOG_LEVEL=error (or debug) to see what the app logs during tests. */
export const silentLog = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');

let shared: { database: Database; redis: Redis; mqtt: MqttClient } | undefined;
let databaseUrlOverride: string | undefined;

/**
 * For a suite whose work spans every tenant (the T+1 run judges the whole book): a database
 * of its own, migrated from empty and dropped after the file, so it neither sees nor touches
 * what other files running at the same time create. Call it before anything else.
 */
export async function ownDatabase(): Promise<string> {
  if (shared) throw new Error('ownDatabase() must come before services()');
  const { adminDatabaseUrl } = testServices();
  const name = `threeflow_own_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const admin = postgres(adminDatabaseUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  databaseUrlOverride = withDatabase(adminDatabaseUrl, name);
  await migrateDatabase(databaseUrlOverride);
  afterAll(async () => {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  });
  return databaseUrlOverride;
}

/** Real services for this test file, closed after it. */
export async function services() {
  if (!shared) {
    const { redisUrl, mqttUrl } = testServices();
    const database = connectDatabase(databaseUrlOverride ?? inject('databaseUrl'), { max: 5 });
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    const mqtt = await connectMqtt({ url: mqttUrl, protocolVersion: 5 }, { clientId: `tftest-${randomBytes(4).toString('hex')}` });
    shared = { database, redis, mqtt };
    afterAll(async () => {
      const s = shared!;
      shared = undefined;
      await endMqtt(s.mqtt);
      s.redis.disconnect();
      await s.database.close();
    });
  }
  return shared;
}

export async function testApp(overrides: Partial<AppDeps> = {}) {
  const { database, redis, mqtt } = await services();
  const deps: AppDeps = {
    env: { BODY_LIMIT_BYTES: 64 * 1024, IDEMPOTENCY_TTL_HOURS: 24, BUSINESS_TZ: 'Asia/Shanghai' },
    db: database.db,
    clock: systemClock,
    log: silentLog,
    metrics: createMetrics({ defaultMetrics: false }),
    readiness: [
      { name: 'postgres', check: async () => void (await database.sql`select 1`) },
      { name: 'redis', check: async () => void (await redis.ping()) },
      {
        name: 'broker',
        check: async () => {
          if (!mqtt.connected) throw new Error('not connected');
        },
      },
    ],
    deviceSecretKey: randomBytes(32),
    registry: { provider: 'sim-provider', webhookSecret: 'test-webhook-secret-0123456789', diff: { shareholderRatioPoints: 5 } },
    ...overrides,
  };
  return { app: createApp(deps), deps, database };
}

export function systemCtx(database: Database, clock: Clock = systemClock): Ctx {
  return { actor: { type: 'system', name: 'test' }, requestId: `test-${randomBytes(4).toString('hex')}`, db: database.db, clock, businessTz: 'Asia/Shanghai', log: silentLog };
}

const ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';

/** A fresh, checksum-valid unified social credit code (registration authority 9, type 1). */
export function randomCreditCode(): string {
  const bytes = randomBytes(10);
  let body = '91' + '110000';
  for (let i = 0; i < 9; i++) body += ALPHABET[bytes[i]! % 31];
  return body + creditCodeCheckCharacter(body);
}

const uniq = () => randomBytes(5).toString('hex');

/** Test factories: organizations, users and keys made through the real verbs. */
export async function factories() {
  const { database } = await services();
  const ctx = systemCtx(database);
  await bootstrapPlatform({ ctx, input: { adminEmail: `bootstrap-${uniq()}@threeflow.test` } });
  const [platform] = await database.sql<{ id: string }[]>`select id from organizations where kind = 'platform'`;

  const org = (kind: Exclude<OrganizationKind, 'platform'>, name = `${kind} ${uniq()}`) =>
    createOrganization({ ctx, input: { kind, name, creditCode: randomCreditCode() } });

  const user = async (organizationId: string, role: UserRole) =>
    createUser({ ctx, input: { organizationId, role, email: `${role}-${uniq()}@threeflow.test`, displayName: `${role} ${uniq()}` } });

  const key = async (userId: string) => createApiKey({ ctx, input: { userId, name: `test key ${uniq()}` } });

  /** An organization of the role's kind with one user of that role and a key. */
  const actor = async (role: UserRole, organizationId?: string) => {
    const orgId = organizationId ?? (role === 'platform_admin' ? platform!.id : (await org(roleOrganizationKind[role] as Exclude<OrganizationKind, 'platform'>)).id);
    const u = await user(orgId, role);
    const k = await key(u.id);
    return { organizationId: orgId, userId: u.id, apiKeyId: k.apiKey.id, key: k.secret };
  };

  return { ctx, platformId: platform!.id, org, user, key, actor };
}

export type TestResponse = { status: number; body: any; headers: Headers; text: string };

/** Calls the app in-process (no socket), like a client would. */
export async function call(
  app: { request: (path: string, init?: RequestInit) => Response | Promise<Response> },
  method: string,
  path: string,
  options: { key?: string; body?: unknown; rawBody?: string; contentType?: string; headers?: Record<string, string> } = {},
): Promise<TestResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  const res = await app.request(path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed, headers: res.headers, text };
}

/** Asserts the RFC 9457 shape every error must have. */
export function expectProblem(res: TestResponse, status: number, code: string) {
  if (res.status !== status || res.headers.get('content-type') !== 'application/problem+json' || res.body?.code !== code) {
    throw new Error(`expected problem ${status} ${code}, got ${res.status} ${res.headers.get('content-type')} ${res.text}`);
  }
  for (const member of ['type', 'title', 'status', 'detail', 'code', 'requestId']) {
    if (res.body[member] === undefined) throw new Error(`problem lacks "${member}": ${res.text}`);
  }
  if (/\bat .+:\d+:\d+/.test(res.text)) throw new Error(`problem leaks a stack trace: ${res.text}`);
  return res.body;
}
