import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { IPublishPacket, MqttClient } from 'mqtt';
import { TOPIC_ROOT } from '../modules/devices/contract';
import type { IngestResult, RawDeviceMessage } from '../modules/devices/ingest';
import { GroupCommitBatcher } from './batcher';
import { connectMqtt, endMqtt, type MqttSettings } from './mqtt-client';


export interface IngestWorkerOptions {
  mqtt: MqttSettings;
  /** Connections in the shared group: MQTT.js hands a connection one message at a time until it is acknowledged. */
  connections: number;
  /** false for brokers without shared subscriptions (the embedded Aedes broker): one plain subscriber. */
  sharedSubscription: boolean;
  workerId?: string;
  shareGroup: string;
  sessionExpirySeconds: number;
  maxBatch: number;
  maxWaitMs: number;
  commit: (batch: RawDeviceMessage[]) => Promise<IngestResult>;
  afterCommit?: (result: IngestResult) => Promise<void>;
  log: Logger;
}

/**
 * The ingest role: a pool of MQTT connections (QoS 1, persistent sessions, one shared
 * subscription group) feeding one group-commit batcher. A message is acknowledged (PUBACK)
 * only after the batch holding it is committed: "acknowledged" means durable. If a commit
 * fails, the connection is dropped without acknowledging, so the broker redelivers.
 */
export async function startIngestWorker(options: IngestWorkerOptions) {
  const batcher = new GroupCommitBatcher<RawDeviceMessage, IngestResult>(
    async (batch) => {
      const result = await options.commit(batch);
      await options.afterCommit?.(result).catch((err: unknown) => options.log.error({ err }, 'after-commit follow-ups failed (events are stored; the checks can be re-run)'));
      return result;
    },
    { maxBatch: options.maxBatch, maxWaitMs: options.maxWaitMs },
  );
  const count = options.sharedSubscription ? options.connections : 1;
  const topic = options.sharedSubscription ? `$share/${options.shareGroup}/${TOPIC_ROOT}/+/+` : `${TOPIC_ROOT}/+/+`;
  const workerId = options.workerId ?? hostname();
  const clients: MqttClient[] = [];
  for (let i = 0; i < count; i++) {
    const slot: { client: MqttClient | null } = { client: null };
    const handleMessage: MqttClient['handleMessage'] = (packet, callback) => {
      const publish = packet as IPublishPacket;
      const payload = Buffer.isBuffer(publish.payload) ? publish.payload : Buffer.from(publish.payload);
      batcher.add({ topic: publish.topic, payload, receivedAt: new Date() }).then(
        () => callback(),
        (err: unknown) => {
          options.log.error({ err }, 'ingest batch failed; dropping the connection so the broker redelivers');
          callback(err as Error);
          slot.client?.stream.destroy();
        },
      );
    };
    const client = await connectMqtt(options.mqtt, { clientId: `${options.shareGroup}-${workerId}-${i}`, clean: false, sessionExpirySeconds: options.sessionExpirySeconds, handleMessage });
    slot.client = client;
    await new Promise<void>((resolve, reject) => client.subscribe(topic, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
    clients.push(client);
  }
  options.log.info({ connections: count, topic }, 'ingest worker subscribed');
  return {
    /** Stop taking messages, commit what is in hand (acknowledging it), then disconnect. */
    close: async () => {
      for (const c of clients) c.handleMessage = (_p, cb) => cb(new Error('shutting down'));
      await batcher.flush();
      await Promise.all(clients.map((c) => endMqtt(c)));
    },
  };
}
