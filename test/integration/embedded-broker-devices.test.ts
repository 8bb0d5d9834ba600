import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pledges } from '../../src/db/schema';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/ingest/embedded-broker';
import { connectMqtt, endMqtt } from '../../src/ingest/mqtt-client';
import { fixedClock } from '../../src/lib/clock';
import { checkSilentDevices } from '../../src/modules/collateral/realtime';
import { authenticateDeviceForBroker } from '../../src/modules/devices/registry';
import { factories, services, testApp } from '../support/harness';
import { deviceMessage, warehouseWithDevice } from '../support/devices';
import { financingWorld } from '../support/financing';
import { freePort } from '../support/process';

let broker: EmbeddedBroker;
let fleet: Awaited<ReturnType<typeof warehouseWithDevice>>;
let other: Awaited<ReturnType<typeof warehouseWithDevice>>;
const secretKey = randomBytes(32);

beforeAll(async () => {
  const { database } = await services();
  const operator = await (await factories()).actor('warehouse_operator');
  fleet = await warehouseWithDevice(database, operator, secretKey);
  other = await warehouseWithDevice(database, operator, secretKey);
  broker = await startEmbeddedBroker({ port: await freePort(), username: 'platform', password: 'platform-secret', authenticateDevice: (id, pw) => authenticateDeviceForBroker(database.db, id, pw) });
});
afterAll(async () => broker.close());

const connectDevice = (username: string, password: string, clientId = username) =>
  new Promise<mqtt.MqttClient>((resolve, reject) => {
    const c = mqtt.connect(broker.url, { clientId, username, password, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 3000 });
    c.once('connect', () => resolve(c));
    c.once('error', (e) => {
      c.end(true);
      reject(e);
    });
  });

describe('the embedded broker (Aedes) checks devices against the registry', () => {
  it('admits a device with its broker password and refuses a wrong one or an unknown device', async () => {
    const ok = await connectDevice(fleet.device.id, fleet.brokerPassword);
    ok.end(true);
    await expect(connectDevice(fleet.device.id, 'wrong')).rejects.toThrow(/Bad username or password|Not authorized/i);
    await expect(connectDevice('00000000-0000-4000-8000-000000000000', fleet.brokerPassword)).rejects.toThrow(/Bad username or password|Not authorized/i);
    // Right credentials, someone else's client id (the ingest worker's session, say): refused.
    await expect(connectDevice(fleet.device.id, fleet.brokerPassword, 'threeflow-ingest-host-0')).rejects.toThrow(/Bad username or password|Not authorized/i);
  });

  it('delivers a device’s own topic to the platform and refuses another device’s topic', async () => {
    const platform = await connectMqtt({ url: broker.url, username: 'platform', password: 'platform-secret', protocolVersion: 4 }, { clientId: `p-${randomBytes(2).toString('hex')}` });
    const received: string[] = [];
    platform.on('message', (topic) => received.push(topic));
    await new Promise<void>((r) => platform.subscribe('tf/v1/devices/+/+', { qos: 1 }, () => r()));
    const device = await connectDevice(fleet.device.id, fleet.brokerPassword);
    const own = deviceMessage(fleet.device.id, fleet.secret, 1, 'heartbeat', {});
    await new Promise<void>((r) => device.publish(own.topic, own.payload, { qos: 1 }, () => r()));
    const foreign = deviceMessage(other.device.id, fleet.secret, 1, 'heartbeat', {});
    device.publish(foreign.topic, foreign.payload, { qos: 1 });
    await new Promise((r) => setTimeout(r, 500));
    expect(received).toEqual([own.topic]);
    device.end(true);
    await endMqtt(platform);
  });
});

describe('silent devices', () => {
  it('a device silent longer than its heartbeat interval raises device_offline for each bank with a pledge in its warehouse', async () => {
    const { database } = await services();
    const { app } = await testApp();
    const w = await financingWorld(app, await factories());
    const [pledge] = await database.db
      .insert(pledges)
      .values({ reference: `PL-${randomBytes(3).toString('hex')}`, bankOrganizationId: w.credit.organizationId, supplierOrganizationId: w.supplier.organizationId, creditLineId: w.line.id, warehouseId: fleet.warehouse.id, createdAt: new Date() })
      .returning();
    // Registered just now with a 60 s interval: not yet silent.
    await checkSilentDevices(database.db, fixedClock(new Date(Date.now() + 30_000)));
    expect(await database.sql`select 1 from signals where rule = 'device_offline' and subject_id = ${pledge!.id}`).toHaveLength(0);
    await checkSilentDevices(database.db, fixedClock(new Date(Date.now() + 120_000)));
    const [signal] = await database.sql<{ severity: string; evidence: { deviceId: string } }[]>`select severity, evidence from signals where rule = 'device_offline' and subject_id = ${pledge!.id}`;
    expect(signal!.severity).toBe('orange');
  });
});
