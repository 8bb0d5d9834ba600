/**
 * Reference device client: what firmware does, in TypeScript with MQTT.js. Tests and the warehouse
 * simulators import it; run directly it sends one heartbeat (see the bottom of this file).
 *
 * It follows devices/README.md:
 * - username = client id = device id, the broker password, clean session / clean start false
 *   (MQTT 5 also asks for a session expiry interval, or the session ends with the connection);
 * - every message gets the next seq, the device clock as ts, and the HMAC signature; it is signed
 *   once and never changed afterwards, so a resend is byte-for-byte the same message;
 * - published with QoS 1 to tf/v1/devices/{deviceId}/{kind}; the message stays in an outbox,
 *   keyed by seq, until its PUBACK arrives; after every reconnect the whole outbox is published
 *   again in seq order (duplicates are harmless: the platform ingests each (device, seq) once).
 *
 * The outbox lives in memory. A real device keeps it, and the next seq, in flash: read `pending`
 * and `nextSeq` to persist them, and pass them back as `unacknowledged` and `nextSeq`.
 */
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import mqtt, { ErrorWithReasonCode, type IClientOptions, type MqttClient } from 'mqtt';
import { z } from 'zod';
import { bodies, deviceMessage, type DeviceMessage, type MessageKind, signMessage, topicFor } from '../src/modules/devices/contract';

export type BodyOf<K extends MessageKind> = z.input<(typeof bodies)[K]>;

export interface DeviceClientOptions {
  /** Broker URL, e.g. mqtt://broker:1883 or mqtts://broker:8883. */
  url: string;
  /** The device id (a UUID); also the MQTT username and client id. */
  deviceId: string;
  /** The HMAC signing secret registered with threeflow for this device. */
  secret: string;
  /** The broker password (from devices/provision-device.sh). */
  password: string;
  /** 4 = MQTT 3.1.1, 5 = MQTT 5 (default). */
  protocolVersion?: 4 | 5;
  /** The seq of the next message (default 1). A device that restarts continues where it stopped. */
  nextSeq?: number;
  /** Signed messages not yet acknowledged, e.g. read back from flash after a restart; they are resent first. */
  unacknowledged?: DeviceMessage[];
  /** The device clock (default: the system clock). */
  now?: () => Date;
  /** Pause between reconnect attempts (default 1000 ms). */
  reconnectPeriodMs?: number;
  /** How long to wait for CONNACK (default 10 000 ms). */
  connectTimeoutMs?: number;
  /** MQTT 5 session expiry in seconds (default 7 days); MQTT 3.1.1 sessions last until the broker expires them. */
  sessionExpirySeconds?: number;
  /** Told about connection changes and errors; the client never throws from an event. */
  onEvent?: (event: DeviceClientEvent) => void;
}

export type DeviceClientEvent =
  | { type: 'connect'; sessionPresent: boolean; resending: number }
  | { type: 'offline' }
  | { type: 'error'; error: Error }
  | { type: 'refused'; seq: number; reasonCode: number };

/** The broker answered the PUBLISH with a failure reason code (MQTT 5 only, e.g. 0x87 Not authorized). */
export class PublishRefusedError extends Error {
  constructor(
    readonly seq: number,
    readonly reasonCode: number,
    message: string,
  ) {
    super(`message seq ${seq} refused by the broker (reason code 0x${reasonCode.toString(16)}): ${message}`);
    this.name = 'PublishRefusedError';
  }
}

interface Entry {
  message: DeviceMessage;
  topic: string;
  payload: string;
  /** Which connection attempt last published it (0 = not published on the current connection). */
  attempt: number;
  settle?: { resolve: (seq: number) => void; reject: (err: Error) => void };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Builds and signs one message (no I/O); exported for simulators and tests. */
export function signedMessage<K extends MessageKind>(args: { deviceId: string; secret: string; seq: number; kind: K; body: BodyOf<K>; ts?: string }): DeviceMessage {
  const body = bodies[args.kind].parse(args.body);
  const unsigned = { deviceId: args.deviceId, seq: args.seq, ts: args.ts ?? new Date().toISOString(), kind: args.kind, body } as Omit<DeviceMessage, 'sig'>;
  return deviceMessage.parse({ ...unsigned, sig: signMessage(args.secret, unsigned) });
}

export class DeviceClient {
  readonly deviceId: string;
  private readonly opts: DeviceClientOptions;
  private readonly outbox = new Map<number, Entry>();
  private seq: number;
  private client: MqttClient | null = null;
  private online = false;
  private connection = 0;
  private closed = false;

  constructor(opts: DeviceClientOptions) {
    if (!z.uuid().safeParse(opts.deviceId).success) throw new Error(`device id ${JSON.stringify(opts.deviceId)} is not a UUID`);
    this.opts = opts;
    this.deviceId = opts.deviceId;
    const restored = [...(opts.unacknowledged ?? [])].sort((a, b) => a.seq - b.seq);
    for (const m of restored) {
      const message = deviceMessage.parse(m);
      if (message.deviceId !== opts.deviceId) throw new Error(`unacknowledged message seq ${message.seq} belongs to device ${message.deviceId}`);
      this.outbox.set(message.seq, { message, topic: topicFor(message.deviceId, message.kind), payload: JSON.stringify(message), attempt: 0 });
    }
    const highest = restored.length ? restored[restored.length - 1]!.seq : 0;
    this.seq = Math.max(opts.nextSeq ?? 1, highest + 1);
    if (!Number.isSafeInteger(this.seq) || this.seq < 1) throw new Error('nextSeq must be a positive integer');
  }

  /** The seq the next send() will use: persist it before sending so a restart never reuses one. */
  get nextSeq(): number {
    return this.seq;
  }

  /** Messages signed but not yet acknowledged by the broker, in seq order. */
  get pending(): DeviceMessage[] {
    return [...this.outbox.values()].map((e) => e.message);
  }

  get connected(): boolean {
    return this.online;
  }

  /** Connects, and keeps reconnecting after losing the connection. Rejects if the first attempt fails (refused, unreachable). */
  connect(): Promise<void> {
    if (this.client) throw new Error('connect() was already called');
    if (this.closed) throw new Error('the client is closed');
    const v = this.opts.protocolVersion ?? 5;
    const options: IClientOptions = {
      username: this.deviceId,
      password: this.opts.password,
      clientId: this.deviceId,
      clean: false,
      protocolVersion: v,
      reconnectPeriod: this.opts.reconnectPeriodMs ?? 1000,
      connectTimeout: this.opts.connectTimeoutMs ?? 10_000,
      keepalive: 60,
      resubscribe: false,
      ...(v === 5 ? { properties: { sessionExpiryInterval: this.opts.sessionExpirySeconds ?? 7 * 24 * 3600 } } : {}),
    };
    const client = mqtt.connect(this.opts.url, options);
    this.client = client;

    return new Promise<void>((resolve, reject) => {
      let first = true;
      client.on('connect', (connack) => {
        this.online = true;
        this.connection += 1;
        const resending = this.outbox.size;
        this.emit({ type: 'connect', sessionPresent: connack.sessionPresent === true, resending });
        // Resend everything not yet acknowledged, oldest seq first.
        for (const entry of this.outbox.values()) this.publish(entry);
        if (first) {
          first = false;
          resolve();
        }
      });
      client.on('close', () => {
        const wasOnline = this.online;
        this.online = false;
        // Take unacknowledged publishes back from MQTT.js so that the outbox alone decides what is
        // resent, and in which order, on the next connection.
        for (const [id, pending] of Object.entries(client.outgoing)) {
          if (pending.cmd === 'publish') client.removeOutgoingMessage(Number(id));
        }
        for (const entry of this.outbox.values()) entry.attempt = 0;
        if (wasOnline) this.emit({ type: 'offline' });
      });
      client.on('error', (error) => {
        this.emit({ type: 'error', error });
        if (first) {
          // A refused first connection (bad password, unknown user) will not get better by retrying.
          first = false;
          client.end(true);
          this.client = null;
          reject(error);
        }
      });
    });
  }

  /**
   * Signs the next message and publishes it with QoS 1. Resolves with its seq when the broker
   * acknowledges it (PUBACK); while offline it waits in the outbox and goes out on reconnect.
   * Rejects with PublishRefusedError when an MQTT 5 broker refuses it (then it leaves the outbox).
   */
  send<K extends MessageKind>(kind: K, body: BodyOf<K>): Promise<number> {
    if (this.closed) return Promise.reject(new Error('the client is closed'));
    let message: DeviceMessage;
    try {
      message = signedMessage({ deviceId: this.deviceId, secret: this.opts.secret, seq: this.seq, kind, body, ts: (this.opts.now?.() ?? new Date()).toISOString() });
    } catch (err) {
      return Promise.reject(err);
    }
    this.seq += 1;
    return new Promise<number>((resolve, reject) => {
      const entry: Entry = { message, topic: topicFor(this.deviceId, kind), payload: JSON.stringify(message), attempt: 0, settle: { resolve, reject } };
      this.outbox.set(message.seq, entry);
      if (this.online) this.publish(entry);
    });
  }

  /**
   * Disconnects. While connected it first waits (up to `drainMs`, default 5 s) for the PUBACKs of
   * messages in flight; sends still unacknowledged after that are rejected, and their messages stay
   * in `pending` (a device would keep them in flash and resend them after its next connect).
   */
  async close(drainMs = 5000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const client = this.client;
    const deadline = Date.now() + drainMs;
    while (this.online && [...this.outbox.values()].some((e) => e.attempt === this.connection) && Date.now() < deadline) await sleep(10);
    this.client = null;
    if (client) {
      const ended = client.endAsync(!this.online).then(() => true);
      if (!(await Promise.race([ended, sleep(2000).then(() => false)]))) {
        client.stream?.destroy(); // the broker went away while we said goodbye
        await ended;
      }
    }
    this.online = false;
    for (const entry of this.outbox.values()) {
      entry.settle?.reject(new Error(`closed before message seq ${entry.message.seq} was acknowledged`));
      entry.settle = undefined;
    }
  }

  private publish(entry: Entry) {
    const client = this.client;
    if (!client || entry.attempt === this.connection) return;
    const attempt = this.connection;
    entry.attempt = attempt;
    const seq = entry.message.seq;
    client.publish(entry.topic, entry.payload, { qos: 1, retain: false }, (err) => {
      if (this.outbox.get(seq) !== entry) return; // already settled by an earlier copy
      if (!err) {
        this.outbox.delete(seq);
        entry.settle?.resolve(seq);
        return;
      }
      if (err instanceof ErrorWithReasonCode && err.code >= 0x80) {
        // The broker read the message and said no: resending it cannot help.
        this.outbox.delete(seq);
        this.emit({ type: 'refused', seq, reasonCode: err.code });
        entry.settle?.reject(new PublishRefusedError(seq, err.code, err.message));
        return;
      }
      // Connection lost or message taken back on close: it stays in the outbox for the next connection.
      if (entry.attempt === attempt) entry.attempt = 0;
    });
  }

  private emit(event: DeviceClientEvent) {
    try {
      this.opts.onEvent?.(event);
    } catch {
      // an observer's failure must not break the client
    }
  }
}

/** `node --import tsx devices/reference-client.ts`: sends one heartbeat and waits for its PUBACK. */
async function main() {
  const env = process.env;
  const missing = ['DEVICE_ID', 'DEVICE_SECRET', 'BROKER_PASSWORD'].filter((k) => !env[k]);
  if (missing.length) {
    console.error(
      `missing ${missing.join(', ')}\n\n` +
        'usage: DEVICE_ID=<uuid> DEVICE_SECRET=<hmac secret> BROKER_PASSWORD=<password> \\\n' +
        '       [MQTT_URL=mqtt://127.0.0.1:1883] [MQTT_PROTOCOL_VERSION=5|4] [SEQ=<n>] \\\n' +
        '       node --import tsx devices/reference-client.ts\n\n' +
        'SEQ defaults to the current time in milliseconds, so that repeated runs keep increasing.',
    );
    process.exit(2);
  }
  const protocolVersion = env.MQTT_PROTOCOL_VERSION === '4' ? 4 : 5;
  const seq = env.SEQ ? Number(env.SEQ) : Date.now();
  const client = new DeviceClient({
    url: env.MQTT_URL || 'mqtt://127.0.0.1:1883',
    deviceId: env.DEVICE_ID!,
    secret: env.DEVICE_SECRET!,
    password: env.BROKER_PASSWORD!,
    protocolVersion,
    nextSeq: seq,
    connectTimeoutMs: 5000,
  });
  const timer = setTimeout(() => {
    console.error('no PUBACK within 15 s');
    process.exit(1);
  }, 15_000);
  try {
    await client.connect();
    const acked = await client.send('heartbeat', { uptimeS: Math.round(process.uptime()) });
    console.log(`heartbeat seq ${acked} acknowledged on ${topicFor(client.deviceId, 'heartbeat')}`);
    await client.close();
  } catch (err) {
    console.error(`failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
    await client.close().catch(() => {});
  } finally {
    clearTimeout(timer);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolvePath(process.argv[1])).href) void main();
