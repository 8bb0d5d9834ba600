import { and, eq, inArray, or, sql } from 'drizzle-orm';
import { devices, quarantine, telemetryEvents } from '../../db/schema';
import type { DbOrTx } from '../../db/client';
import { type DeviceMessage, deviceMessage, parseTopic, verifySignature } from './contract';
import { decryptSecret, type SecretKey } from './secrets';

export interface RawDeviceMessage {
  topic: string;
  payload: Buffer;
  receivedAt: Date;
}

export type QuarantineReason =
  | 'malformed_json'
  | 'schema_violation'
  | 'not_a_device_topic'
  | 'topic_of_another_device'
  | 'unknown_device'
  | 'device_disabled'
  | 'bad_signature'
  | 'clock_skew'
  | 'seq_replayed_with_different_body'
  | 'storage_error';

/** Accepted events that need a real-time rule evaluated after commit (ids only). */
export interface FollowUp {
  deviceId: string;
  seq: number;
  kind: DeviceMessage['kind'];
  /** A movement out of the warehouse: must match a release order if the lot is pledged. */
  outbound: boolean;
}

export interface IngestResult {
  accepted: number;
  duplicates: number;
  quarantined: Record<string, number>;
  followUps: FollowUp[];
}

export interface IngestOptions {
  secretKey: SecretKey;
  /** How far ahead of the server a device clock may be. */
  maxClockSkewSeconds: number;
  /** How old a (resent) message may be. */
  maxMessageAgeSeconds: number;
}

/** Decrypted device secrets, keyed by their ciphertext (a rotation changes the key, so no staleness). */
const secretCache = new Map<string, string>();

/**
 * Writes one batch of device messages in one transaction: accepted messages once each by
 * (device, seq) — resends and redeliveries change nothing — and everything else to
 * quarantine with its reason. Never throws for a bad message; only a database failure
 * fails the batch (and then nothing of it is acknowledged).
 */
export async function ingestBatch(db: DbOrTx, options: IngestOptions, batch: RawDeviceMessage[]): Promise<IngestResult> {
  const quarantined: (typeof quarantine.$inferInsert)[] = [];
  const reject = (m: RawDeviceMessage, reason: QuarantineReason, detail: string | null, deviceId: string | null = null, warehouseId: string | null = null) =>
    // PostgreSQL text cannot hold NUL: keep it visible but storable, or one such message would fail every batch it is in.
    quarantined.push({ topic: m.topic.replaceAll('\u0000', '\\u0000'), payload: m.payload.toString('utf8').slice(0, 64_000).replaceAll('\u0000', '\\u0000'), reason, detail, deviceId, warehouseId, receivedAt: m.receivedAt });

  const candidates: { raw: RawDeviceMessage; msg: DeviceMessage }[] = [];
  for (const raw of batch) {
    const topic = parseTopic(raw.topic);
    if (!topic) {
      reject(raw, 'not_a_device_topic', null);
      continue;
    }
    const text = raw.payload.toString('utf8');
    if (text.includes('\\u0000') || text.includes('\u0000')) {
      // jsonb refuses NUL characters: such a message could never be stored.
      reject(raw, 'schema_violation', 'contains a NUL character', uuidOrNull(topic.deviceId));
      continue;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      reject(raw, 'malformed_json', null, uuidOrNull(topic.deviceId));
      continue;
    }
    if (!wellFormed(json)) {
      // A lone UTF-16 surrogate (text cut mid-character) is refused by jsonb like NUL.
      reject(raw, 'schema_violation', 'contains malformed text (a lone UTF-16 surrogate)', uuidOrNull(topic.deviceId));
      continue;
    }
    const parsed = deviceMessage.safeParse(json);
    if (!parsed.success) {
      reject(raw, 'schema_violation', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ').slice(0, 1000), uuidOrNull(topic.deviceId));
      continue;
    }
    if (parsed.data.deviceId !== topic.deviceId || parsed.data.kind !== topic.kind) {
      reject(raw, 'topic_of_another_device', `topic says ${topic.deviceId}/${topic.kind}, message says ${parsed.data.deviceId}/${parsed.data.kind}`, uuidOrNull(topic.deviceId));
      continue;
    }
    candidates.push({ raw, msg: parsed.data });
  }

  return db.transaction(async (tx) => {
    const ids = [...new Set(candidates.map((c) => c.msg.deviceId))];
    const known = new Map((ids.length ? await tx.select().from(devices).where(inArray(devices.id, ids)) : []).map((d) => [d.id, d]));
    const rows = new Map<string, typeof telemetryEvents.$inferInsert & { raw: RawDeviceMessage }>();
    let duplicates = 0;

    for (const { raw, msg } of candidates) {
      const device = known.get(msg.deviceId);
      if (!device) {
        reject(raw, 'unknown_device', null, msg.deviceId);
        continue;
      }
      if (device.status !== 'active') {
        reject(raw, 'device_disabled', null, device.id, device.warehouseId);
        continue;
      }
      let secret = secretCache.get(device.secretCiphertext);
      if (!secret) {
        try {
          secret = decryptSecret(options.secretKey, device.secretCiphertext);
        } catch {
          // Most likely this process runs with another DEVICE_SECRET_KEY than the one that registered the device.
          reject(raw, 'bad_signature', 'the device secret cannot be decrypted with this DEVICE_SECRET_KEY', device.id, device.warehouseId);
          continue;
        }
        secretCache.set(device.secretCiphertext, secret);
      }
      if (!verifySignature(secret, msg)) {
        reject(raw, 'bad_signature', null, device.id, device.warehouseId);
        continue;
      }
      // A device clock ahead of ours is wrong; behind is normal for a resend (the contract makes devices
      // resend unacknowledged messages unchanged), up to the age a broker session can hold them.
      const deviceTs = new Date(msg.ts);
      const aheadMs = deviceTs.getTime() - raw.receivedAt.getTime();
      if (aheadMs > options.maxClockSkewSeconds * 1000 || -aheadMs > options.maxMessageAgeSeconds * 1000) {
        reject(raw, 'clock_skew', `device clock ${msg.ts}, server ${raw.receivedAt.toISOString()}`, device.id, device.warehouseId);
        continue;
      }
      // A verified signature is a MAC over the whole canonical message: equal signatures, equal content.
      const bodyHash = msg.sig;
      const key = `${msg.deviceId}:${msg.seq}`;
      const seen = rows.get(key);
      if (seen) {
        if (seen.bodyHash === bodyHash) duplicates++;
        else reject(raw, 'seq_replayed_with_different_body', `seq ${msg.seq} already in this batch with another body`, device.id, device.warehouseId);
        continue;
      }
      const movement = msg.kind === 'movement' ? msg.body : null;
      rows.set(key, {
        raw,
        deviceId: msg.deviceId,
        seq: msg.seq,
        kind: msg.kind,
        warehouseId: device.warehouseId,
        deviceTs,
        receivedAt: raw.receivedAt,
        bodyHash,
        body: msg.body,
        lotCode: movement?.lotCode ?? null,
        skuCode: movement?.skuCode ?? null,
        signedQuantity: movement ? (movement.direction === 'in' ? movement.quantity : -movement.quantity) : null,
      });
    }

    const values = [...rows.values()];
    const inserted = new Set<string>();
    if (values.length) {
      // One JSON parameter instead of 12 per row: building thousands of bind parameters costs more CPU than the insert.
      const records = values.map((v) => ({
        device_id: v.deviceId,
        seq: v.seq,
        kind: v.kind,
        warehouse_id: v.warehouseId,
        device_ts: (v.deviceTs as Date).toISOString(),
        received_at: (v.receivedAt as Date).toISOString(),
        body_hash: v.bodyHash,
        body: v.body,
        lot_code: v.lotCode,
        sku_code: v.skuCode,
        signed_quantity: v.signedQuantity,
        needs_check: needsCheck(v.kind, v.signedQuantity),
      }));
      const back = await tx.execute<{ deviceId: string; seq: number }>(sql`
        insert into telemetry_events (device_id, seq, kind, warehouse_id, device_ts, received_at, body_hash, body, lot_code, sku_code, signed_quantity, needs_check)
        select device_id, seq, kind, warehouse_id, device_ts, received_at, body_hash, body, lot_code, sku_code, signed_quantity, needs_check
          from jsonb_to_recordset(${JSON.stringify(records)}::jsonb) as x(device_id uuid, seq bigint, kind text, warehouse_id uuid, device_ts timestamptz, received_at timestamptz, body_hash text, body jsonb, lot_code text, sku_code text, signed_quantity bigint, needs_check boolean)
        on conflict do nothing
        returning device_id as "deviceId", seq`);
      for (const r of back) inserted.add(`${r.deviceId}:${Number(r.seq)}`);
      const existing = values.filter((v) => !inserted.has(`${v.deviceId}:${v.seq}`));
      if (existing.length) {
        const stored = await tx
          .select({ deviceId: telemetryEvents.deviceId, seq: telemetryEvents.seq, bodyHash: telemetryEvents.bodyHash })
          .from(telemetryEvents)
          .where(or(...existing.map((e) => and(eq(telemetryEvents.deviceId, e.deviceId), eq(telemetryEvents.seq, e.seq)))));
        const hashOf = new Map(stored.map((s) => [`${s.deviceId}:${s.seq}`, s.bodyHash]));
        for (const e of existing) {
          if (hashOf.get(`${e.deviceId}:${e.seq}`) === e.bodyHash) duplicates++;
          else reject(e.raw, 'seq_replayed_with_different_body', `seq ${e.seq} was accepted before with another body`, e.deviceId, e.warehouseId);
        }
      }
      // Last seen and highest seq per device, in one statement.
      const latest = new Map<string, { at: Date; seq: number }>();
      for (const v of values) {
        const cur = latest.get(v.deviceId);
        if (!cur || v.seq > cur.seq) latest.set(v.deviceId, { at: v.receivedAt, seq: v.seq });
      }
      const list = [...latest.entries()].sort(([a], [b]) => (a < b ? -1 : 1)); // id order: concurrent batches lock devices alike
      await tx.execute(sql`
        update devices d set last_seen_at = greatest(d.last_seen_at, v.at), last_seq = greatest(d.last_seq, v.seq)
          from (values ${sql.join(
            list.map(([id, l]) => sql`(${id}::uuid, ${l.at.toISOString()}::timestamptz, ${l.seq}::bigint)`),
            sql`, `,
          )}) as v(id, at, seq)
         where d.id = v.id`);
    }
    if (quarantined.length) await tx.insert(quarantine).values(quarantined);

    const counts: Record<string, number> = {};
    for (const q of quarantined) counts[q.reason] = (counts[q.reason] ?? 0) + 1;
    const followUps = values
      .filter((v) => inserted.has(`${v.deviceId}:${v.seq}`) && needsCheck(v.kind, v.signedQuantity ?? null))
      .map((v) => ({ deviceId: v.deviceId, seq: v.seq, kind: v.kind as DeviceMessage['kind'], outbound: (v.signedQuantity ?? 0) < 0 }));
    return { accepted: inserted.size, duplicates, quarantined: counts, followUps };
  });
}

/** Events the real-time rules look at: outbound movements, alarms, counts, weighings. */
function needsCheck(kind: string, signedQuantity: number | null | undefined): boolean {
  return kind === 'alarm' || kind === 'count' || kind === 'weight' || (kind === 'movement' && (signedQuantity ?? 0) < 0);
}

function wellFormed(value: unknown): boolean {
  if (typeof value === 'string') return value.isWellFormed();
  if (Array.isArray(value)) return value.every(wellFormed);
  if (value && typeof value === 'object') return Object.entries(value).every(([k, v]) => k.isWellFormed() && wellFormed(v));
  return true;
}

/**
 * ingestBatch, but one message the database refuses cannot hold the others hostage: on a
 * failure the batch is retried message by message, and a message that still fails alone is
 * quarantined as storage_error. Only when even that fails (the database is down) does the
 * error propagate — and then nothing is acknowledged and the broker redelivers.
 */
export async function ingestBatchIsolating(db: DbOrTx, options: IngestOptions, batch: RawDeviceMessage[]): Promise<IngestResult> {
  try {
    return await ingestBatch(db, options, batch);
  } catch (batchError) {
    if (batch.length === 1) {
      await db.insert(quarantine).values({ topic: batch[0]!.topic, payload: batch[0]!.payload.toString('utf8').slice(0, 64_000).replaceAll('\u0000', '\\u0000'), reason: 'storage_error', detail: String(batchError instanceof Error ? batchError.message : batchError).slice(0, 1000), receivedAt: batch[0]!.receivedAt });
      return { accepted: 0, duplicates: 0, quarantined: { storage_error: 1 }, followUps: [] };
    }
    const total: IngestResult = { accepted: 0, duplicates: 0, quarantined: {}, followUps: [] };
    for (const m of batch) {
      const r = await ingestBatchIsolating(db, options, [m]);
      total.accepted += r.accepted;
      total.duplicates += r.duplicates;
      total.followUps.push(...r.followUps);
      for (const [k, n] of Object.entries(r.quarantined)) total.quarantined[k] = (total.quarantined[k] ?? 0) + n;
    }
    return total;
  }
}

function uuidOrNull(id: string): string | null {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id) ? id : null;
}
