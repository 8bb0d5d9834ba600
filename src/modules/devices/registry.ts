import { and, asc, eq, type SQL } from 'drizzle-orm';
import { z } from '@hono/zod-openapi';
import { devices, warehouses } from '../../db/schema';
import type { DbOrTx } from '../../db/client';
import { afterCursor } from '../../db/keyset';
import { type Ctx, isPlatformWide, requireRole } from '../../lib/context';
import { notFound } from '../../lib/errors';
import { decodeCursor, pageOf, pageQuerySchema, pageSchema } from '../../lib/pagination';
import { parseInput } from '../../lib/validation';
import { recordAudit } from '../audit/record-audit';
import { encryptSecret, hashBrokerPassword, newDeviceSecret, type SecretKey, verifyBrokerPassword } from './secrets';

export const registerDeviceInput = z
  .object({
    warehouseId: z.uuid(),
    kind: z.enum(['rfid_gate', 'scale', 'weighbridge', 'counter_camera', 'environment_sensor', 'gateway']),
    name: z.string().trim().min(1).max(100),
    heartbeatIntervalSeconds: z.number().int().min(10).max(86_400).default(60),
  })
  .openapi('RegisterDevice');

export const deviceOutput = z
  .object({
    id: z.uuid(),
    warehouseId: z.uuid(),
    kind: z.string(),
    name: z.string(),
    status: z.enum(['active', 'disabled']),
    heartbeatIntervalSeconds: z.number().int(),
    lastSeenAt: z.iso.datetime().nullable(),
    lastSeq: z.number().int().nullable(),
    createdAt: z.iso.datetime(),
  })
  .openapi('Device');
export const devicePage = pageSchema(deviceOutput).openapi('DevicePage');
export const deviceCredentialsOutput = z
  .object({
    device: deviceOutput,
    secret: z.string().openapi({ description: 'HMAC-SHA256 signing secret. Shown only now.' }),
    broker: z.object({ username: z.string(), password: z.string(), topic: z.string() }).openapi({ description: 'MQTT credentials (username = device id). Shown only now.' }),
  })
  .openapi('DeviceCredentials');

const toDevice = (d: typeof devices.$inferSelect) => ({
  id: d.id,
  warehouseId: d.warehouseId,
  kind: d.kind,
  name: d.name,
  status: d.status,
  heartbeatIntervalSeconds: d.heartbeatIntervalSeconds,
  lastSeenAt: d.lastSeenAt?.toISOString() ?? null,
  lastSeq: d.lastSeq ?? null,
  createdAt: d.createdAt.toISOString(),
});

function credentials(key: SecretKey) {
  const secret = newDeviceSecret();
  const password = newDeviceSecret();
  return { secret, password, stored: { secretCiphertext: encryptSecret(key, secret), brokerPasswordHash: hashBrokerPassword(password) } };
}

async function loadOwnDevice(ctx: Ctx, db: DbOrTx, deviceId: string) {
  const [row] = await db.select().from(devices).where(eq(devices.id, deviceId));
  if (!row || (ctx.actor.type === 'user' && !isPlatformWide(ctx.actor) && row.warehouseOrganizationId !== ctx.actor.organizationId)) throw notFound('Device');
  return row;
}

/** A warehouse operator registers a device in one of its warehouses; secret and broker password are shown once. */
export async function registerDevice({ ctx, input, secretKey }: { ctx: Ctx; input: unknown; secretKey: SecretKey }) {
  requireRole(ctx, ['warehouse_operator']);
  const data = parseInput(registerDeviceInput, input);
  return ctx.db.transaction(async (tx) => {
    const [warehouse] = await tx.select().from(warehouses).where(eq(warehouses.id, data.warehouseId));
    if (!warehouse || (ctx.actor.type === 'user' && warehouse.warehouseOrganizationId !== ctx.actor.organizationId)) throw notFound('Warehouse');
    const creds = credentials(secretKey);
    const [row] = await tx
      .insert(devices)
      .values({ warehouseId: warehouse.id, warehouseOrganizationId: warehouse.warehouseOrganizationId, kind: data.kind, name: data.name, heartbeatIntervalSeconds: data.heartbeatIntervalSeconds, ...creds.stored, createdAt: ctx.clock.now() })
      .returning();
    await recordAudit(tx, ctx, { organizationId: warehouse.warehouseOrganizationId, action: 'device.registered', subjectType: 'device', subjectId: row!.id, data: { before: null, after: toDevice(row!) } });
    return { device: toDevice(row!), secret: creds.secret, broker: { username: row!.id, password: creds.password, topic: `tf/v1/devices/${row!.id}/{kind}` } };
  });
}

/** New signing secret and broker password; the old ones stop working at once. */
export async function rotateDeviceCredentials({ ctx, input, secretKey }: { ctx: Ctx; input: { deviceId: string }; secretKey: SecretKey }) {
  requireRole(ctx, ['warehouse_operator']);
  return ctx.db.transaction(async (tx) => {
    const device = await loadOwnDevice(ctx, tx, input.deviceId);
    const creds = credentials(secretKey);
    const [row] = await tx.update(devices).set(creds.stored).where(eq(devices.id, device.id)).returning();
    await recordAudit(tx, ctx, { organizationId: device.warehouseOrganizationId, action: 'device.credentials_rotated', subjectType: 'device', subjectId: device.id, data: {} });
    return { device: toDevice(row!), secret: creds.secret, broker: { username: row!.id, password: creds.password, topic: `tf/v1/devices/${row!.id}/{kind}` } };
  });
}

export async function setDeviceStatus({ ctx, input }: { ctx: Ctx; input: { deviceId: string; status: 'active' | 'disabled' } }) {
  requireRole(ctx, ['warehouse_operator']);
  return ctx.db.transaction(async (tx) => {
    const device = await loadOwnDevice(ctx, tx, input.deviceId);
    const [row] = await tx.update(devices).set({ status: input.status }).where(eq(devices.id, device.id)).returning();
    await recordAudit(tx, ctx, { organizationId: device.warehouseOrganizationId, action: `device.${input.status === 'active' ? 'enabled' : 'disabled'}`, subjectType: 'device', subjectId: device.id, data: { before: { status: device.status }, after: { status: input.status } } });
    return toDevice(row!);
  });
}

export async function listDevices({ ctx, input }: { ctx: Ctx; input: Record<string, unknown> }) {
  requireRole(ctx, ['warehouse_operator', 'platform_admin']);
  const q = parseInput(pageQuerySchema, input, 'query');
  const where: (SQL | undefined)[] = [afterCursor(devices.createdAt, devices.id, decodeCursor(q.cursor))];
  if (ctx.actor.type === 'user' && !isPlatformWide(ctx.actor)) where.push(eq(devices.warehouseOrganizationId, ctx.actor.organizationId));
  const rows = await ctx.db.select().from(devices).where(and(...where)).orderBy(asc(devices.createdAt), asc(devices.id)).limit(q.limit + 1);
  return pageOf(rows, q.limit, toDevice);
}

export async function getDevice({ ctx, input }: { ctx: Ctx; input: { deviceId: string } }) {
  requireRole(ctx, ['warehouse_operator', 'platform_admin']);
  return toDevice(await loadOwnDevice(ctx, ctx.db, input.deviceId));
}

/** For the embedded broker: is this the device's broker password, and is the device active? */
export async function authenticateDeviceForBroker(db: DbOrTx, deviceId: string, password: string): Promise<boolean> {
  if (!/^[0-9a-f-]{36}$/i.test(deviceId)) return false;
  const [row] = await db.select({ hash: devices.brokerPasswordHash, status: devices.status }).from(devices).where(eq(devices.id, deviceId));
  if (!row || row.status !== 'active') return false;
  return await verifyBrokerPassword(password, row.hash);
}

