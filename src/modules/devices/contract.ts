import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from '../../lib/canonical-json';

/**
 * The device contract (devices/README.md explains it to firmware engineers; the JSON Schema
 * files in devices/schemas/ are generated from these zod schemas and a test fails if they drift).
 *
 * Topic:    tf/v1/devices/{deviceId}/{kind}       kind = movement | weight | count | heartbeat | alarm
 * Payload:  { deviceId, seq, ts, kind, body, sig }  UTF-8 JSON
 * sig:      hex HMAC-SHA256(device secret, canonical JSON of the payload without `sig`)
 *           (object keys sorted, no whitespace)
 * QoS 1, persistent session (clean start false); on reconnect a device resends every message
 * from its oldest unacknowledged seq. Each device's seq starts at 1 and only ever increases.
 */
export const TOPIC_ROOT = 'tf/v1/devices';
export const messageKinds = ['movement', 'weight', 'count', 'heartbeat', 'alarm'] as const;
export type MessageKind = (typeof messageKinds)[number];

const code = z.string().min(1).max(64).regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only');
const quantity = z.number().int().min(1).max(1_000_000_000);

export const movementBody = z
  .object({
    direction: z.enum(['in', 'out']),
    lotCode: code,
    skuCode: code,
    quantity: quantity.describe('in the SKU’s base unit (e.g. kg or pieces)'),
    zone: code.optional(),
    tagIds: z.array(code).max(1000).optional(),
  })
  .strict();
export const weightBody = z.object({ lotCode: code, skuCode: code, grossGrams: z.number().int().min(0).max(1e12), zone: code.optional() }).strict();
export const countBody = z
  .object({ zone: code, counts: z.array(z.object({ lotCode: code, skuCode: code, quantity: z.number().int().min(0).max(1_000_000_000) }).strict()).min(1).max(1000) })
  .strict();
export const heartbeatBody = z.object({ battery: z.number().int().min(0).max(100).optional(), rssi: z.number().int().min(-150).max(0).optional(), uptimeS: z.number().int().min(0).optional() }).strict();
export const alarmBody = z.object({ type: z.enum(['tamper', 'door', 'geofence', 'power']), detail: z.string().max(500).optional() }).strict();

export const bodies = { movement: movementBody, weight: weightBody, count: countBody, heartbeat: heartbeatBody, alarm: alarmBody } as const;

const envelopeBase = {
  // Lower case: the broker ACL, the topic and the registry compare the id as a string.
  deviceId: z.uuid().regex(/^[0-9a-f-]+$/, 'lower-case hex'),
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  ts: z.iso.datetime({ offset: true }).describe('the device clock, ISO 8601'),
  sig: z.string().regex(/^[0-9a-f]{64}$/, '64 lower-case hex characters'),
};

export const deviceMessage = z.discriminatedUnion('kind', [
  z.object({ ...envelopeBase, kind: z.literal('movement'), body: movementBody }).strict(),
  z.object({ ...envelopeBase, kind: z.literal('weight'), body: weightBody }).strict(),
  z.object({ ...envelopeBase, kind: z.literal('count'), body: countBody }).strict(),
  z.object({ ...envelopeBase, kind: z.literal('heartbeat'), body: heartbeatBody }).strict(),
  z.object({ ...envelopeBase, kind: z.literal('alarm'), body: alarmBody }).strict(),
]);
export type DeviceMessage = z.infer<typeof deviceMessage>;

export function topicFor(deviceId: string, kind: MessageKind): string {
  return `${TOPIC_ROOT}/${deviceId}/${kind}`;
}

/** Splits a topic into device id and kind, or null when it is not a device topic. */
export function parseTopic(topic: string): { deviceId: string; kind: MessageKind } | null {
  const m = /^tf\/v1\/devices\/([^/]+)\/([^/]+)$/.exec(topic);
  if (!m || !(messageKinds as readonly string[]).includes(m[2]!)) return null;
  return { deviceId: m[1]!, kind: m[2] as MessageKind };
}

export function signingInput(message: Omit<DeviceMessage, 'sig'> | Record<string, unknown>): string {
  const { sig: _sig, ...rest } = message as Record<string, unknown>;
  return canonicalJson(rest);
}

export function signMessage(secret: string, message: Omit<DeviceMessage, 'sig'>): string {
  return createHmac('sha256', secret).update(signingInput(message)).digest('hex');
}

export function verifySignature(secret: string, message: DeviceMessage): boolean {
  const expected = Buffer.from(signMessage(secret, message), 'hex');
  const given = Buffer.from(message.sig, 'hex');
  return expected.length === given.length && timingSafeEqual(expected, given);
}
