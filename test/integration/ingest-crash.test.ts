import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { connectMqtt, endMqtt } from '../../src/ingest/mqtt-client';
import { generateStream } from '../../simulators/warehouse-fleet';
import { factories, services } from '../support/harness';
import { warehouseWithDevice } from '../support/devices';
import { startMain, type Started } from '../support/process';
import { testServices } from '../support/services';

const running: Started[] = [];
afterAll(() => {
  for (const p of running) if (p.child.exitCode === null) p.child.kill('SIGKILL');
});

async function waitFor<T>(probe: () => Promise<T | null>, ms: number): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== null) return v;
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('the ingest worker killed with SIGKILL mid-stream', () => {
  it('after a restart, positions equal the ground truth exactly: nothing lost, nothing counted twice', async () => {
    const { database } = await services();
    const secretKey = randomBytes(32);
    const f = await factories();
    const operator = await f.actor('warehouse_operator');
    const fleet = await Promise.all([0, 1, 2, 3, 4].map(() => warehouseWithDevice(database, operator, secretKey)));
    const devices = fleet.map((d) => ({ id: d.device.id, secret: d.secret }));
    const lots = ['L1', 'L2', 'L3', 'L4', 'L5', 'L6'].map((l) => `${l}-${randomBytes(2).toString('hex')}`);
    const stream = generateStream({ devices, events: 3000, lots, skuCode: 'COIL-A', duplicateRate: 0.1, reorderWindow: 20, seed: 42 });

    const group = `${inject('queuePrefix')}_crash`.slice(-40).replace(/[^A-Za-z0-9_-]/g, '_');
    const env = {
      THREEFLOW_ROLE: 'ingest',
      LOG_LEVEL: 'info',
      DATABASE_URL: inject('databaseUrl'),
      REDIS_URL: testServices().redisUrl,
      MQTT_URL: testServices().mqttUrl,
      QUEUE_PREFIX: `${inject('queuePrefix')}_crash`,
      DEVICE_SECRET_KEY: secretKey.toString('hex'),
      INGEST_SHARE_GROUP: group,
      INGEST_WORKER_ID: 'crash',
      INGEST_SESSION_EXPIRY_SECONDS: '300',
      INGEST_CONNECTIONS: '8',
    };
    const launch = async () => {
      const p = startMain(env);
      running.push(p);
      await waitFor(async () => (p.stdout().includes('ingest worker subscribed') ? true : p.child.exitCode !== null ? Promise.reject(new Error(p.stderr())) : null), 30_000);
      return p;
    };
    const first = await launch();

    const publisher: MqttClient = await connectMqtt({ url: testServices().mqttUrl, protocolVersion: 5 }, { clientId: `crash-pub-${randomBytes(3).toString('hex')}` });
    const publish = (m: { topic: string; payload: string }) => new Promise<void>((resolve, reject) => publisher.publish(m.topic, m.payload, { qos: 1 }, (e) => (e ? reject(e) : resolve())));
    const killAt = Math.floor(stream.messages.length * 0.4);
    let killed: Started | null = null;
    for (let i = 0; i < stream.messages.length; i++) {
      if (i === killAt) {
        first.child.kill('SIGKILL');
        killed = first;
      }
      await publish(stream.messages[i]!);
    }
    expect(killed).not.toBeNull();
    await first.exited;
    const second = await launch();

    const ids = devices.map((d) => d.id);
    let seen = 0;
    const count = await waitFor(async () => {
      const [row] = await database.sql<{ n: number }[]>`select count(*)::int as n from telemetry_events where device_id = any(${ids}::uuid[])`;
      seen = row!.n;
      return row!.n >= stream.unique ? row!.n : null;
    }, 30_000).catch((e: unknown) => {
      throw new Error(`only ${seen} of ${stream.unique} events arrived; worker said: ${second.stdout().split('\n').filter((l) => /warn|error|subscribed/.test(l)).slice(-5).join('\n')}`, { cause: e });
    });
    expect(count).toBe(stream.unique);
    const sums = await database.sql<{ lot_code: string; total: string }[]>`select lot_code, sum(signed_quantity)::text as total from telemetry_events where device_id = any(${ids}::uuid[]) group by lot_code`;
    expect(new Map(sums.map((s) => [s.lot_code, Number(s.total)]))).toEqual(stream.truth);
    const [dupes] = await database.sql<{ n: number }[]>`select count(*)::int as n from quarantine where device_id = any(${ids}::uuid[])`;
    expect(dupes!.n).toBe(0);

    await endMqtt(publisher);
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  }, 180_000);
});
