import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { skus, warehouses } from '../../src/db/schema';
import type { Database } from '../../src/db/client';
import { type DeviceMessage, type MessageKind, signMessage, topicFor } from '../../src/modules/devices/contract';
import { registerDevice } from '../../src/modules/devices/registry';
import type { Ctx } from '../../src/lib/context';
import { silentLog } from './harness';
import { systemClock } from '../../src/lib/clock';

/** A warehouse of the operator's organization and one device in it, made through the real verbs (warehouse by row). */
export async function warehouseWithDevice(database: Database, operator: { organizationId: string; userId: string; apiKeyId: string }, secretKey: Buffer) {
  const [warehouse] = await database.db
    .insert(warehouses)
    .values({ warehouseOrganizationId: operator.organizationId, name: `监管仓 ${randomBytes(2).toString('hex')}`, address: '宁波市北仑区', zones: ['A', 'B'], createdAt: new Date() })
    .returning();
  const ctx: Ctx = {
    actor: { type: 'user', userId: operator.userId, organizationId: operator.organizationId, organizationKind: 'warehouse', role: 'warehouse_operator', apiKeyId: operator.apiKeyId },
    requestId: 'test',
    db: database.db,
    clock: systemClock,
    businessTz: 'Asia/Shanghai',
    log: silentLog,
  };
  const registered = await registerDevice({ ctx, input: { warehouseId: warehouse!.id, kind: 'rfid_gate', name: 'gate 1', heartbeatIntervalSeconds: 60 }, secretKey });
  return { warehouse: warehouse!, device: registered.device, secret: registered.secret, brokerPassword: registered.broker.password, ctx };
}

export async function ensureSku(database: Database, code: string, options: { nominalUnitWeightGrams?: number; toleranceBp?: number } = {}) {
  const [existing] = await database.db.select().from(skus).where(eq(skus.code, code));
  if (existing) return existing;
  const [row] = await database.db
    .insert(skus)
    .values({ code, name: `steel coil ${code}`, unit: 'kg', nominalUnitWeightGrams: options.nominalUnitWeightGrams ?? 1000, toleranceBp: options.toleranceBp ?? 200, haircutBp: 3000, createdAt: new Date() })
    .onConflictDoNothing()
    .returning();
  return row ?? (await database.db.select().from(skus).where(eq(skus.code, code)))[0]!;
}

/** A signed device message and its topic, as a device would publish it. */
export function deviceMessage<K extends MessageKind>(deviceId: string, secret: string, seq: number, kind: K, body: Extract<DeviceMessage, { kind: K }>['body'], ts = new Date()) {
  const unsigned = { deviceId, seq, ts: ts.toISOString(), kind, body } as Omit<DeviceMessage, 'sig'>;
  const message = { ...unsigned, sig: signMessage(secret, unsigned) } as DeviceMessage;
  return { topic: topicFor(deviceId, kind), message, payload: JSON.stringify(message) };
}
