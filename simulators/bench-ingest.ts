/**
 * Ingestion benchmark: simulated devices publish signed movements (QoS 1) to a real
 * Mosquitto; the ingest worker (connection pool + group commit) writes them to PostgreSQL.
 * Prints sustained events/s committed, publish-to-commit latency p50/p99, lost and
 * duplicated counts, and the machine it ran on.
 *
 *   npm run bench:ingest -- --devices 200 --rate 6000 --seconds 20 --connections 32
 *
 * Needs PostgreSQL (BENCH_DATABASE_URL, an admin URL; a scratch database is created and
 * dropped), Mosquitto (BENCH_MQTT_URL, MQTT 5, anonymous on localhost) — the machine's defaults.
 */
import { randomBytes } from 'node:crypto';
import { cpus, totalmem, type as osType, release } from 'node:os';
import { parseArgs } from 'node:util';
import type { MqttClient } from 'mqtt';
import postgres from 'postgres';
import { connectDatabase } from '../src/db/client';
import { migrateDatabase } from '../src/db/migrate';
import { devices as devicesTable, organizations, warehouses } from '../src/db/schema';
import { connectMqtt, endMqtt } from '../src/ingest/mqtt-client';
import { startIngestWorker } from '../src/ingest/worker';
import { createLogger } from '../src/lib/logger';
import { ingestBatchIsolating, type RawDeviceMessage } from '../src/modules/devices/ingest';
import { encryptSecret, hashBrokerPassword, newDeviceSecret } from '../src/modules/devices/secrets';
import { signMessage, topicFor } from '../src/modules/devices/contract';

const { values: args } = parseArgs({
  options: {
    devices: { type: 'string', default: '200' },
    rate: { type: 'string', default: '5000' },
    seconds: { type: 'string', default: '20' },
    connections: { type: 'string', default: '256' },
    batch: { type: 'string', default: '1000' },
    wait: { type: 'string', default: '5' },
    publishers: { type: 'string', default: '8' },
    duplicates: { type: 'string', default: '0.02' },
  },
});
const deviceCount = Number(args.devices);
const rate = Number(args.rate);
const seconds = Number(args.seconds);
const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const mqttUrl = process.env.BENCH_MQTT_URL ?? 'mqtt://127.0.0.1:1883';

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function main() {
  const dbName = `threeflow_bench_${Date.now().toString(36)}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${dbName}`);
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  let database: ReturnType<typeof connectDatabase> | undefined;
  try {
    await migrateDatabase(url.toString());
    database = connectDatabase(url.toString(), { max: 4 });
    const key = randomBytes(32);
    const now = new Date();
    const [org] = await database.db.insert(organizations).values({ kind: 'warehouse', name: 'bench warehouse co', creditCode: null, createdAt: now, updatedAt: now }).returning();
    const [warehouse] = await database.db.insert(warehouses).values({ warehouseOrganizationId: org!.id, name: 'bench', address: '-', zones: ['A'], createdAt: now }).returning();
    const fleet = Array.from({ length: deviceCount }, () => ({ id: crypto.randomUUID(), secret: newDeviceSecret() }));
    const brokerHash = hashBrokerPassword('unused-on-mosquitto');
    for (let i = 0; i < fleet.length; i += 500) {
      await database.db.insert(devicesTable).values(
        fleet.slice(i, i + 500).map((d) => ({ id: d.id, warehouseId: warehouse!.id, warehouseOrganizationId: org!.id, kind: 'rfid_gate' as const, name: 'bench', secretCiphertext: encryptSecret(key, d.secret), brokerPasswordHash: brokerHash, heartbeatIntervalSeconds: 60, createdAt: now })),
      );
    }

    const total = rate * seconds;
    const lots = Array.from({ length: 50 }, (_, i) => `BENCH-${i}`);
    // Messages are built and signed as they are published, so `ts` is the publish time.
    const seqs = new Map(fleet.map((d) => [d.id, 0]));
    const truth = new Map<string, number>();
    let unique = 0;
    let duplicates = 0;
    const nextMessages = (n: number) => {
      const out: { topic: string; payload: string }[] = [];
      for (let i = 0; i < n; i++) {
        const device = fleet[(unique + i) % fleet.length]!;
        const seq = seqs.get(device.id)! + 1;
        seqs.set(device.id, seq);
        const lotCode = lots[(unique + i) % lots.length]!;
        const quantity = 1 + ((unique + i) % 50);
        const direction = (unique + i) % 10 < 7 ? 'in' : 'out';
        truth.set(lotCode, (truth.get(lotCode) ?? 0) + (direction === 'in' ? quantity : -quantity));
        const unsigned = { deviceId: device.id, seq, ts: new Date().toISOString(), kind: 'movement' as const, body: { direction: direction as 'in' | 'out', lotCode, skuCode: 'BENCH', quantity } };
        const m = { topic: topicFor(device.id, 'movement'), payload: JSON.stringify({ ...unsigned, sig: signMessage(device.secret, unsigned) }) };
        out.push(m);
        if (Math.random() < Number(args.duplicates)) {
          out.push(m);
          duplicates++;
        }
      }
      unique += n;
      return out;
    };

    const latencies: number[] = [];
    let committed = 0;
    let firstCommit = 0;
    let lastCommit = 0;
    const log = createLogger('warn');
    const worker = await startIngestWorker({
      mqtt: { url: mqttUrl, protocolVersion: 5 },
      connections: Number(args.connections),
      sharedSubscription: true,
      shareGroup: `bench-${randomBytes(3).toString('hex')}`,
      workerId: 'bench',
      sessionExpirySeconds: 60,
      maxBatch: Number(args.batch),
      maxWaitMs: Number(args.wait),
      log,
      commit: async (batch: RawDeviceMessage[]) => {
        const result = await ingestBatchIsolating(database!.db, { secretKey: key, maxClockSkewSeconds: 3600, maxMessageAgeSeconds: 86_400 }, batch);
        const at = Date.now();
        firstCommit ||= at;
        lastCommit = at;
        committed += result.accepted;
        for (const m of batch) {
          const ts = /"ts":"([^"]+)"/.exec(m.payload.toString())?.[1];
          if (ts) latencies.push(at - Date.parse(ts));
        }
        return result;
      },
    });

    // Publishers: several connections, paced to the target rate; each message is stamped as it leaves.
    const publishers: MqttClient[] = [];
    for (let i = 0; i < Number(args.publishers); i++) publishers.push(await connectMqtt({ url: mqttUrl, protocolVersion: 5 }, { clientId: `bench-pub-${i}-${randomBytes(2).toString('hex')}` }));
    const started = Date.now();
    let published = 0;
    const acks: Promise<void>[] = [];
    while (unique < total) {
      const due = Math.min(total, Math.floor(((Date.now() - started) / 1000) * rate));
      for (const m of nextMessages(due - unique)) {
        const client = publishers[published++ % publishers.length]!;
        acks.push(new Promise<void>((resolve, reject) => client.publish(m.topic, m.payload, { qos: 1 }, (e) => (e ? reject(e) : resolve()))));
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    await Promise.all(acks);
    const publishSeconds = (Date.now() - started) / 1000;
    const deadline = Date.now() + 60_000;
    while (committed < unique && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await worker.close();
    await Promise.all(publishers.map((p) => endMqtt(p)));

    const [row] = await database.sql<{ n: number }[]>`select count(*)::int as n from telemetry_events`;
    const sums = await database.sql<{ lot_code: string; total: string }[]>`select lot_code, sum(signed_quantity)::text as total from telemetry_events group by lot_code`;
    const wrongLots = sums.filter((s) => Number(s.total) !== truth.get(s.lot_code)).length;
    latencies.sort((a, b) => a - b);
    const commitSeconds = (lastCommit - firstCommit) / 1000 || 1;
    const cpu = cpus();
    process.stdout.write(
      [
        'threeflow ingest benchmark',
        `machine   ${cpu[0]?.model ?? 'unknown CPU'} × ${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ${osType()} ${release()}, Node ${process.version}; PostgreSQL, Redis, Mosquitto and this process on the same machine`,
        `load      ${deviceCount} devices, target ${rate} events/s for ${seconds} s (${published} published incl. ${duplicates} duplicates), ${args.publishers} publisher connections`,
        `worker    ${args.connections} MQTT connections in one shared group, batches ≤ ${args.batch}, wait ≤ ${args.wait} ms`,
        `published ${(published / publishSeconds).toFixed(0)} msg/s (QoS 1, acknowledged by the broker)`,
        `committed ${(committed / commitSeconds).toFixed(0)} events/s sustained (${committed} unique events in ${commitSeconds.toFixed(1)} s)`,
        `latency   publish→commit p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms, max ${latencies[latencies.length - 1]} ms`,
        `lost      ${unique - row!.n}    duplicated ${Math.max(0, row!.n - unique)}    lots off the ground truth ${wrongLots}`,
        '',
      ].join('\n'),
    );
  } finally {
    await database?.close();
    await admin.unsafe(`drop database if exists ${dbName} with (force)`);
    await admin.end();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  },
);
