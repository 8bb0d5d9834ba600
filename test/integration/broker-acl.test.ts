import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt, { ErrorWithReasonCode, type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DeviceClient, signedMessage } from '../../devices/reference-client';
import { deviceMessage, topicFor, verifySignature } from '../../src/modules/devices/contract';
import { freePort, repoRoot } from '../support/process';

/**
 * Runs our own Mosquitto (2.0.11) built from devices/mosquitto/* and proves what the broker
 * enforces: a device writes only under its own topic and reads nothing, the ingest user reads
 * every device topic (also through the $share group) and writes nothing, and bad credentials
 * are refused at CONNECT.
 */
const MOSQUITTO = process.env.MOSQUITTO_BIN ?? '/usr/sbin/mosquitto';
const execFileAsync = promisify(execFile);

const A = { id: '6f1c2b4e-9d3a-4e5f-8a7b-1c2d3e4f5a6b', password: 'broker-password-device-a', secret: 'hmac-secret-device-a' };
const B = { id: '2a9e7c1d-3b4f-4a6e-9c8d-7e6f5a4b3c2d', password: 'broker-password-device-b', secret: 'hmac-secret-device-b' };
const INGEST = { username: 'threeflow-ingest', password: 'broker-password-ingest' };

let dir = '';
let broker: ChildProcess | null = null;
let brokerLog = '';
let devicePort = 0;
let platformPort = 0;
const opened: MqttClient[] = [];
const deviceClients: DeviceClient[] = [];
const relays: { close(): void }[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = tcpConnect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (broker?.exitCode !== null) return reject(new Error(`mosquitto exited (${broker?.exitCode}):\n${brokerLog}`));
        if (Date.now() - started > timeoutMs) return reject(new Error(`mosquitto did not listen on ${port}:\n${brokerLog}`));
        setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tf-mosquitto-'));
  // Started as root, Mosquitto drops to the `mosquitto` user before it reads the password and
  // ACL files and writes its persistence file: it must be able to enter and write this folder.
  chmodSync(dir, 0o777);
  devicePort = await freePort();
  platformPort = await freePort();

  const template = readFileSync(join(repoRoot, 'devices/mosquitto/mosquitto.conf'), 'utf8');
  const conf = template
    .replace(/^listener 1883$/m, `listener ${devicePort} 127.0.0.1`)
    .replace(/^listener 1885 127\.0\.0\.1$/m, `listener ${platformPort} 127.0.0.1`);
  expect(conf).toContain(`listener ${devicePort} 127.0.0.1`);
  expect(conf).toContain(`listener ${platformPort} 127.0.0.1`);
  writeFileSync(join(dir, 'mosquitto.conf'), `${conf}\nlog_type all\n`);
  copyFileSync(join(repoRoot, 'devices/mosquitto/acl'), join(dir, 'acl'));
  chmodSync(join(dir, 'acl'), 0o644);

  const provision = (user: string, password: string) =>
    execFileSync('bash', [join(repoRoot, 'devices/provision-device.sh'), join(dir, 'passwd'), user], { env: { ...process.env, BROKER_PASSWORD: password }, encoding: 'utf8' });
  expect(provision(A.id, A.password)).toMatch(/Created .*passwd/);
  provision(B.id, B.password);
  expect(provision(INGEST.username, INGEST.password)).toContain('MQTT_USERNAME=threeflow-ingest');
  expect(readFileSync(join(dir, 'passwd'), 'utf8').split('\n').filter(Boolean).map((l) => l.split(':')[0])).toEqual([A.id, B.id, INGEST.username]);

  broker = spawn(MOSQUITTO, ['-c', 'mosquitto.conf'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  broker.stdout!.on('data', (d: Buffer) => (brokerLog += d.toString()));
  broker.stderr!.on('data', (d: Buffer) => (brokerLog += d.toString()));
  await waitForPort(devicePort);
  await waitForPort(platformPort);
});

/** Every test starts with no client connected: a leftover member of the $share group would take messages. */
afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.endAsync(true).catch(() => {})));
  await Promise.all(deviceClients.splice(0).map((c) => c.close(0).catch(() => {})));
  for (const relay of relays.splice(0)) relay.close();
});

afterAll(async () => {
  if (broker && broker.exitCode === null) {
    const exited = new Promise((r) => broker!.once('exit', r));
    broker.kill('SIGTERM');
    await Promise.race([exited, sleep(5000).then(() => broker!.kill('SIGKILL'))]);
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Received {
  topic: string;
  payload: string;
  qos: number;
}

/** Connects a raw MQTT.js client; records what it receives. */
async function open(port: number, options: IClientOptions) {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
  opened.push(client);
  client.on('error', () => {});
  const received: Received[] = [];
  client.on('message', (topic, payload, packet) => received.push({ topic, payload: payload.toString('utf8'), qos: packet.qos }));
  let closed = false;
  client.on('close', () => (closed = true));
  return {
    client,
    received,
    isClosed: () => closed,
    async waitFor(match: (m: Received) => boolean, timeoutMs = 5000): Promise<Received> {
      const started = Date.now();
      for (;;) {
        const found = received.find(match);
        if (found) return found;
        if (Date.now() - started > timeoutMs) throw new Error(`nothing matching arrived; got ${JSON.stringify(received.map((m) => m.topic))}\nbroker log:\n${brokerLog.slice(-3000)}`);
        await sleep(20);
      }
    },
  };
}

let ingestCount = 0;
async function ingest(filter = 'tf/v1/devices/#') {
  const sub = await open(platformPort, { username: INGEST.username, password: INGEST.password, clientId: `threeflow-ingest-test-${++ingestCount}`, protocolVersion: 5, clean: true });
  const granted = await sub.client.subscribeAsync(filter, { qos: 1 });
  expect(granted[0]!.qos).toBe(1);
  return sub;
}

async function device(who: typeof A, protocolVersion: 4 | 5, clientId: string = who.id) {
  return open(devicePort, { username: who.id, password: who.password, clientId, protocolVersion, clean: false, ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 3600 } } : {}) });
}

function referenceClient(options: Omit<ConstructorParameters<typeof DeviceClient>[0], 'url'> & { url?: string }) {
  const client = new DeviceClient({ url: `mqtt://127.0.0.1:${devicePort}`, ...options });
  deviceClients.push(client);
  return client;
}

function heartbeat(who: typeof A, seq: number) {
  return signedMessage({ deviceId: who.id, secret: who.secret, seq, kind: 'heartbeat', body: { battery: 90, uptimeS: seq } });
}

/** A TCP relay in front of the broker that can swallow the broker's replies and cut every connection. */
async function proxy(targetPort: number) {
  const sockets = new Set<Socket>();
  let drop = false;
  const server = createServer((downstream) => {
    const upstream = tcpConnect(targetPort, '127.0.0.1');
    sockets.add(downstream).add(upstream);
    downstream.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => {
      if (!drop) downstream.write(d);
    });
    const end = () => {
      downstream.destroy();
      upstream.destroy();
      sockets.delete(downstream);
      sockets.delete(upstream);
    };
    for (const s of [downstream, upstream]) s.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const relay = {
    port: (server.address() as AddressInfo).port,
    dropBrokerToDevice(on: boolean) {
      drop = on;
    },
    cut() {
      for (const s of sockets) s.destroy();
    },
    close() {
      this.cut();
      server.close();
    },
  };
  relays.push(relay);
  return relay;
}

/**
 * Publishes a fresh message as device A under its own topic and waits until `sub` has it. The
 * broker handles one client's packets in order and forwards in order, so anything an earlier
 * publish would have delivered to `sub` has arrived by then.
 */
async function sentinel(sub: Awaited<ReturnType<typeof ingest>>, seq: number) {
  const a = await device(A, 5);
  const message = heartbeat(A, seq);
  await a.client.publishAsync(topicFor(A.id, 'heartbeat'), JSON.stringify(message), { qos: 1 });
  await sub.waitFor((m) => m.payload.includes(`"seq":${seq},`));
  await a.client.endAsync();
}

describe('Mosquitto with devices/mosquitto/*', () => {
  it.each([4, 5] as const)('a device (MQTT %s via the reference client) publishes under its own topic; ingest receives it directly and through $share', async (v) => {
    const plain = await ingest('tf/v1/devices/#');
    const shared = await ingest('$share/threeflow-ingest/tf/v1/devices/#');
    const client = referenceClient({ deviceId: A.id, secret: A.secret, password: A.password, protocolVersion: v, nextSeq: 100 * v });
    await client.connect();
    const seq = await client.send('weight', { lotCode: 'LOT-1', skuCode: 'SKU-1', grossGrams: 1_000_500 });
    expect(seq).toBe(100 * v);
    expect(client.pending).toEqual([]);
    await client.close();

    for (const sub of [plain, shared]) {
      const got = await sub.waitFor((m) => m.topic === topicFor(A.id, 'weight') && m.payload.includes(`"seq":${seq},`));
      expect(got.qos).toBe(1);
      const message = deviceMessage.parse(JSON.parse(got.payload));
      expect(message).toMatchObject({ deviceId: A.id, seq, kind: 'weight', body: { grossGrams: 1_000_500 } });
      expect(verifySignature(A.secret, message)).toBe(true);
    }
  });

  it('MQTT 3.1.1: publishing under another device topic is acknowledged, dropped, and the broker closes the connection', async () => {
    const sub = await ingest();
    const a = await device(A, 4);
    const forged = heartbeat(B, 7001); // even correctly signed with B's secret: A may not write there
    // Mosquitto 2.0.11 answers a denied QoS 1 publish from an MQTT 3.1.1 client with a plain PUBACK
    // (3.1.1 has no way to say no), drops the message, then disconnects the client.
    await expect(a.client.publishAsync(topicFor(B.id, 'heartbeat'), JSON.stringify(forged), { qos: 1 })).resolves.toBeDefined();
    await expect.poll(a.isClosed, { timeout: 5000 }).toBe(true);
    expect(brokerLog).toMatch(new RegExp(`Denied PUBLISH from ${A.id} .*'${topicFor(B.id, 'heartbeat')}'`));
    await sentinel(sub, 7002);
    expect(sub.received.filter((m) => m.topic.includes(B.id))).toEqual([]);
  });

  it('MQTT 5: publishing under another device topic gets PUBACK reason code 0x87 (Not authorized), is dropped, and the connection is closed', async () => {
    const sub = await ingest();
    const a = await device(A, 5);
    const error = await a.client.publishAsync(topicFor(B.id, 'movement'), JSON.stringify(heartbeat(B, 7101)), { qos: 1 }).then(
      () => null,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(ErrorWithReasonCode);
    expect((error as ErrorWithReasonCode).code).toBe(0x87);
    expect((error as ErrorWithReasonCode).code).toBeGreaterThanOrEqual(0x80);
    await expect.poll(a.isClosed, { timeout: 5000 }).toBe(true);
    await sentinel(sub, 7102);
    expect(sub.received.filter((m) => m.topic.includes(B.id))).toEqual([]);
  });

  it('a device reads nothing: its subscription is granted but no message reaches it', async () => {
    const sub = await ingest();
    const b = await device(B, 5);
    // Mosquitto 2.0.11 grants the SUBSCRIBE and applies the (missing) read permission per message.
    const granted = await b.client.subscribeAsync(['tf/v1/devices/#', `tf/v1/devices/${B.id}/#`], { qos: 1 });
    expect(granted.map((g) => g.qos)).toEqual([1, 1]);
    await sentinel(sub, 7202); // device A writes under its own topic, which B subscribed to
    expect(b.received).toEqual([]);
  });

  it('a device cannot take over another device session: the client id is replaced by the username', async () => {
    const sub = await ingest();
    const b = await device(B, 5);
    const a = await device(A, 5, B.id); // A claims B's client id
    await a.client.publishAsync(topicFor(A.id, 'heartbeat'), JSON.stringify(heartbeat(A, 7301)), { qos: 1 });
    await sub.waitFor((m) => m.payload.includes('"seq":7301,'));
    expect(b.isClosed()).toBe(false);
    expect(brokerLog).toMatch(new RegExp(`New client connected from .* as ${A.id} \\(p5, c0, k60, u'${A.id}'\\)`));
  });

  it('the ingest user reads but cannot publish, not even under a topic named after itself', async () => {
    const sub = await ingest();
    for (const topic of [topicFor(A.id, 'heartbeat'), 'tf/v1/devices/threeflow-ingest/heartbeat']) {
      const writer = await open(platformPort, { username: INGEST.username, password: INGEST.password, clientId: `ingest-writer-${topic.length}`, protocolVersion: 5 });
      const err = await writer.client.publishAsync(topic, JSON.stringify(heartbeat(A, 7401)), { qos: 1 }).catch((e: unknown) => e);
      expect((err as ErrorWithReasonCode).code).toBe(0x87);
    }
    await sentinel(sub, 7402);
    expect(sub.received.filter((m) => m.payload.includes('"seq":7401,'))).toEqual([]);
  });

  it.each([
    { v: 4 as const, code: 5 }, // CONNACK return code 5: not authorized
    { v: 5 as const, code: 0x87 }, // Mosquitto 2.0.11 answers 0x87 Not authorized (not 0x86)
  ])('a wrong password, an unknown user and an anonymous client are refused at CONNECT (MQTT $v)', async ({ v, code }) => {
    const attempts: IClientOptions[] = [
      { username: A.id, password: 'wrong-password', clientId: A.id },
      { username: B.id, password: A.password, clientId: B.id },
      { username: '9b2f8c1e-0d4a-4b7c-8e6f-5a4b3c2d1e0f', password: A.password, clientId: 'unknown' },
      { clientId: 'anonymous' },
    ];
    for (const options of attempts) {
      const err = await mqtt.connectAsync(`mqtt://127.0.0.1:${devicePort}`, { ...options, protocolVersion: v, reconnectPeriod: 0, connectTimeout: 5000 }).then(
        (c) => {
          opened.push(c);
          return null;
        },
        (e: unknown) => e as Error & { code?: number },
      );
      expect(err, JSON.stringify(options)).toBeInstanceOf(Error);
      expect(err!.code, JSON.stringify(options)).toBe(code);
    }
    // The reference client gives up at once instead of retrying a refused first connection.
    await expect(referenceClient({ deviceId: A.id, secret: A.secret, password: 'wrong-password', protocolVersion: v }).connect()).rejects.toMatchObject({ code });
    // The platform listener refuses a wrong ingest password the same way.
    const ingestErr = await mqtt.connectAsync(`mqtt://127.0.0.1:${platformPort}`, { username: INGEST.username, password: 'wrong', protocolVersion: v, reconnectPeriod: 0 }).then(
      (c) => {
        opened.push(c);
        return null;
      },
      (e: unknown) => e as Error & { code?: number },
    );
    expect(ingestErr?.code).toBe(code);
  });

  it.each(['mqttv311', 'mqttv5'])('mosquitto_pub (%s, a client we did not write) publishes a signed message under its own topic and ingest receives it', async (version) => {
    const sub = await ingest('$share/threeflow-ingest/tf/v1/devices/#');
    const message = signedMessage({ deviceId: B.id, secret: B.secret, seq: version === 'mqttv5' ? 7502 : 7501, kind: 'count', body: { zone: 'Z-1', counts: [{ lotCode: 'L-1', skuCode: 'S-1', quantity: 12 }] } });
    const payload = JSON.stringify(message);
    // -c: clean session false (needs a client id); -q 1: QoS 1
    await execFileAsync('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(devicePort), '-V', version, '-u', B.id, '-P', B.password, '-i', B.id, '-c', '-q', '1', '-t', topicFor(B.id, 'count'), '-m', payload], { timeout: 10_000 });
    const got = await sub.waitFor((m) => m.topic === topicFor(B.id, 'count') && m.payload === payload);
    expect(got.qos).toBe(1);
    expect(verifySignature(B.secret, deviceMessage.parse(JSON.parse(got.payload)))).toBe(true);
  });

  it('the reference client keeps what it sends while offline and resends it in seq order after reconnecting', async () => {
    const sub = await ingest();
    const events: string[] = [];
    const client = referenceClient({
      deviceId: B.id,
      secret: B.secret,
      password: B.password,
      protocolVersion: 5,
      nextSeq: 8000,
      reconnectPeriodMs: 300,
      onEvent: (e) => events.push(e.type),
    });
    await client.connect();
    expect(await client.send('heartbeat', { battery: 50 })).toBe(8000);

    // Another connection with B's credentials takes over B's client id (the broker replaces it with
    // the username), which knocks the reference client off until it reconnects.
    const intruder = await device(B, 5);
    await expect.poll(() => client.connected, { timeout: 5000 }).toBe(false);
    const sends = [client.send('movement', { direction: 'in', lotCode: 'L-9', skuCode: 'S-9', quantity: 5 }), client.send('movement', { direction: 'out', lotCode: 'L-9', skuCode: 'S-9', quantity: 2 }), client.send('alarm', { type: 'tamper' })];
    expect(client.pending.map((m) => m.seq)).toEqual([8001, 8002, 8003]);

    await expect(Promise.all(sends)).resolves.toEqual([8001, 8002, 8003]);
    expect(client.pending).toEqual([]);
    expect(client.nextSeq).toBe(8004);
    await expect.poll(intruder.isClosed).toBe(true); // the reconnect took the session back
    await sub.waitFor((m) => m.payload.includes('"seq":8003,'));
    const seqs = sub.received.filter((m) => m.topic.startsWith(`tf/v1/devices/${B.id}/`)).map((m) => (JSON.parse(m.payload) as { seq: number }).seq);
    expect(seqs.filter((s) => s >= 8001)).toEqual([8001, 8002, 8003]);
    expect(events).toEqual(expect.arrayContaining(['connect', 'offline']));
    await client.close();
  });

  it.each([4, 5] as const)('the reference client (MQTT %s) resends, in seq order, messages whose PUBACK was lost with the connection', async (v) => {
    const sub = await ingest();
    const link = await proxy(devicePort);
    const base = 10_000 * v;
    const client = referenceClient({ url: `mqtt://127.0.0.1:${link.port}`, deviceId: A.id, secret: A.secret, password: A.password, protocolVersion: v, nextSeq: base, reconnectPeriodMs: 200 });
    await client.connect();

    link.dropBrokerToDevice(true); // the broker gets and forwards every message, but no PUBACK reaches the device
    const sends = Array.from({ length: 50 }, (_, i) => client.send('count', { zone: 'Z-2', counts: [{ lotCode: `L-${i}`, skuCode: 'S-2', quantity: i }] }));
    await sub.waitFor((m) => m.payload.includes(`"seq":${base + 49},`));
    expect(client.pending.map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => base + i));

    link.dropBrokerToDevice(false);
    link.cut(); // the connection dies with 50 messages unacknowledged; the client reconnects and resends them
    const seqs = await Promise.all(sends);
    expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => base + i));
    expect(client.pending).toEqual([]);

    await expect.poll(() => sub.received.filter((m) => m.payload.includes(`"seq":${base + 49},`)).length, { timeout: 5000 }).toBe(2);
    const arrived = sub.received.map((m) => JSON.parse(m.payload) as { seq: number; sig: string }).filter((m) => m.seq >= base);
    expect(arrived.map((m) => m.seq)).toEqual([...seqs, ...seqs]); // each message twice, each time in seq order
    expect(arrived.slice(50).map((m) => m.sig)).toEqual(arrived.slice(0, 50).map((m) => m.sig)); // resent unchanged (same ts, same sig)
    await client.close();
  });
});
