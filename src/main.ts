import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { Queue } from 'bullmq';
import type { MqttClient } from 'mqtt';
import { createApp } from './app';
import { checkDatabase, connectDatabase, redactUrl, type Database } from './db/client';
import { migrateDatabase } from './db/migrate';
import { resolveDatabase } from './db/resolve';
import { ConfigError, loadEnv, type Env, type Role } from './env';
import { QUEUE_DASHBOARD_PATH } from './http/bull-board';
import { createMetrics, observeQueueDepth } from './http/metrics';
import { connectMqtt, endMqtt, type MqttSettings } from './ingest/mqtt-client';
import { queues as queueDefinitions } from './jobs/queues';
import { createRedis, probeRedis } from './jobs/redis';
import { collateralQueue, enqueueEventChecks, startCollateralJobs } from './jobs/collateral';
import { enqueueRegistryPull, registryQueue, startRegistryJobs } from './jobs/registry';
import { enqueueWarningRun, startWarningJobs, warningsQueue } from './jobs/warnings';
import { startWebhookJobs } from './jobs/webhooks';
import { startIngestWorker } from './ingest/worker';
import { ingestBatchIsolating } from './modules/devices/ingest';
import { authenticateDeviceForBroker } from './modules/devices/registry';
import { loadOrCreateKeyFile, parseSecretKey } from './modules/devices/secrets';
import { startJobs, type JobsRole } from './jobs/workers';
import { httpRegistryProvider } from './modules/registry/providers';
import { startSignalFeed } from './modules/warnings/feed';
import { systemClock } from './lib/clock';
import { createLogger, type Logger } from './lib/logger';
import { bootstrapPlatform } from './modules/parties/bootstrap-platform';

/** Start-up failures a newcomer can act on: printed as one line, exit code 1. */
class StartupError extends Error {}

type Closer = { name: string; close: () => Promise<unknown> };

/**
 * Composition root: env → PostgreSQL → Redis → broker → roles. Closers are pushed in the
 * order things start and run in the order the design asks for on shutdown: HTTP, MQTT,
 * workers, Redis, PostgreSQL (then the embedded services).
 */
async function main(): Promise<void> {
  let env: Env;
  try {
    env = loadEnv();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`threeflow: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  const role = roleFromArgs(process.argv.slice(2)) ?? env.THREEFLOW_ROLE;
  const log = createLogger(env.LOG_LEVEL);
  const closers: Record<'http' | 'mqtt' | 'jobs' | 'redis' | 'postgres' | 'embeddedBroker' | 'embeddedPostgres', Closer | undefined> = {
    http: undefined,
    mqtt: undefined,
    jobs: undefined,
    redis: undefined,
    postgres: undefined,
    embeddedBroker: undefined,
    embeddedPostgres: undefined,
  };
  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      log.error({ timeoutMs: env.SHUTDOWN_TIMEOUT_MS }, 'shutdown took too long; exiting');
      process.exit(1);
    }, env.SHUTDOWN_TIMEOUT_MS);
    force.unref();
    for (const closer of Object.values(closers)) {
      if (!closer) continue;
      try {
        await closer.close();
        log.debug({ closed: closer.name }, 'closed');
      } catch (err) {
        log.warn({ err, closer: closer.name }, 'error while closing');
      }
    }
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  try {
    // PostgreSQL: the configured one, or an embedded one for a machine with nothing set up.
    const resolved = await resolveDatabase(env, log).catch((e: unknown) => {
      throw new StartupError(message(e));
    });
    if (resolved.embedded) closers.embeddedPostgres = { name: 'embedded PostgreSQL', close: () => resolved.stop() };
    const databaseUrl = resolved.url;
    const database: Database = connectDatabase(databaseUrl, { max: env.DATABASE_POOL_SIZE });
    closers.postgres = { name: 'PostgreSQL', close: () => database.close() };
    await checkDatabase(database.sql).catch((e: unknown) => {
      throw new StartupError(`PostgreSQL is not reachable at ${redactUrl(databaseUrl)}: ${message(e)}. Start it, or unset DATABASE_URL to use the embedded one.`);
    });

    const redisProbe = await probeRedis(env.REDIS_URL).catch((e: unknown) => {
      throw new StartupError(
        `Redis is not reachable at ${redactUrl(env.REDIS_URL)} (${message(e)}). Start it with \`redis-server --daemonize yes\` (or \`sudo systemctl start redis-server\`), or set REDIS_URL.`,
      );
    });
    if (redisProbe.warning) log.warn(redisProbe.warning);

    await migrateDatabase(databaseUrl).catch((e: unknown) => {
      throw new StartupError(`Database migration failed: ${message(e)}`);
    });
    await printBootstrapKey(database, log, env.BUSINESS_TZ);
    const deviceSecretKey = env.DEVICE_SECRET_KEY ? parseSecretKey(env.DEVICE_SECRET_KEY) : await loadOrCreateKeyFile(join(dirname(env.EMBEDDED_PG_DIR), 'device-secret.key'));

    // Broker: the configured one, or the embedded Aedes broker (MQTT 3.1.1).
    let mqttSettings: MqttSettings;
    if (env.MQTT_URL) {
      mqttSettings = { url: env.MQTT_URL, username: env.MQTT_USERNAME, password: env.MQTT_PASSWORD, protocolVersion: env.MQTT_PROTOCOL_VERSION };
    } else {
      const { startEmbeddedBroker } = await import('./ingest/embedded-broker');
      const username = env.MQTT_USERNAME ?? 'threeflow-platform';
      const password = env.MQTT_PASSWORD ?? randomBytes(18).toString('base64url');
      const broker = await startEmbeddedBroker({
        port: env.EMBEDDED_MQTT_PORT,
        username,
        password,
        authenticateDevice: (deviceId, devicePassword) => authenticateDeviceForBroker(database.db, deviceId, devicePassword),
      }).catch((e: unknown) => {
        throw new StartupError(message(e));
      });
      closers.embeddedBroker = { name: 'embedded MQTT broker', close: () => broker.close() };
      mqttSettings = { url: broker.url, username, password, protocolVersion: 4 };
    }
    const mqttClient: MqttClient = await connectMqtt(mqttSettings, { clientId: `threeflow-${role}-${process.pid}-${randomBytes(3).toString('hex')}` }).catch(
      (e: unknown) => {
        throw new StartupError(`${message(e)}. Start Mosquitto (\`mosquitto -d\`), or unset MQTT_URL to use the embedded broker.`);
      },
    );
    closers.mqtt = { name: 'MQTT', close: () => endMqtt(mqttClient) };

    const producerRedis = createRedis(env.REDIS_URL, 'producer');
    const workerRedis = createRedis(env.REDIS_URL, 'worker');
    producerRedis.on('error', (err) => log.warn({ err: err.message }, 'redis (producer) error'));
    workerRedis.on('error', (err) => log.warn({ err: err.message }, 'redis (worker) error'));
    closers.redis = {
      name: 'Redis',
      close: async () => {
        await Promise.allSettled([producerRedis.quit(), workerRedis.quit()]);
      },
    };

    const metrics = createMetrics();
    const deps = { db: database.db, clock: systemClock, log, metrics };

    const diff = { shareholderRatioPoints: env.REGISTRY_SHAREHOLDER_RATIO_POINTS };
    const registryProvider = env.REGISTRY_PROVIDER_URL
      ? httpRegistryProvider({ name: env.REGISTRY_PROVIDER_NAME, baseUrl: env.REGISTRY_PROVIDER_URL, token: env.REGISTRY_PROVIDER_TOKEN, timeoutMs: env.REGISTRY_TIMEOUT_MS })
      : null;
    const pullQueue = registryProvider ? registryQueue(producerRedis, env.QUEUE_PREFIX) : null;

    let jobs: JobsRole | undefined;
    const registryJobs: { close(): Promise<void> }[] = [];
    if (role === 'jobs' || role === 'all') {
      jobs = await startJobs({ ...deps, businessTz: env.BUSINESS_TZ, workerRedis, producerRedis, prefix: env.QUEUE_PREFIX });
      registryJobs.push(await startCollateralJobs({ ...deps, workerRedis, producerRedis, prefix: env.QUEUE_PREFIX }));
      registryJobs.push(await startWarningJobs({ ...deps, workerRedis, producerRedis, prefix: env.QUEUE_PREFIX, timeZone: env.BUSINESS_TZ, cron: env.WARNING_RUN_CRON, skipCheckCron: env.WARNING_SKIP_CHECK_CRON }));
      registryJobs.push(
        await startWebhookJobs({ ...deps, workerRedis, producerRedis, prefix: env.QUEUE_PREFIX, secretKey: deviceSecretKey, maxAttempts: env.WEBHOOK_MAX_ATTEMPTS, retryBaseMs: env.WEBHOOK_RETRY_BASE_MS, timeoutMs: env.WEBHOOK_TIMEOUT_MS }),
      );
      if (registryProvider) {
        registryJobs.push(
          await startRegistryJobs({ ...deps, workerRedis, producerRedis, prefix: env.QUEUE_PREFIX, provider: registryProvider, diff, cron: env.REGISTRY_PULL_CRON, businessTz: env.BUSINESS_TZ, ratePerSecond: env.REGISTRY_PULL_RATE_PER_SECOND }),
        );
      } else {
        log.info('REGISTRY_PROVIDER_URL not set: no registry pulls are scheduled');
      }
      closers.jobs = {
        name: 'job workers',
        close: async () => {
          await Promise.all([jobs!.close(), ...registryJobs.map((r) => r.close()), pullQueue?.close()]);
        },
      };
    }
    if (role === 'ingest' || role === 'all') {
      const checks = collateralQueue(producerRedis, env.QUEUE_PREFIX);
      const ingest = await startIngestWorker({
        mqtt: mqttSettings,
        connections: env.INGEST_CONNECTIONS,
        sharedSubscription: mqttSettings.protocolVersion === 5,
        workerId: env.INGEST_WORKER_ID,
        shareGroup: env.INGEST_SHARE_GROUP,
        sessionExpirySeconds: env.INGEST_SESSION_EXPIRY_SECONDS,
        maxBatch: env.INGEST_MAX_BATCH,
        maxWaitMs: env.INGEST_MAX_WAIT_MS,
        log,
        commit: (batch) => ingestBatchIsolating(database.db, { secretKey: deviceSecretKey, maxClockSkewSeconds: env.DEVICE_MAX_CLOCK_SKEW_SECONDS, maxMessageAgeSeconds: env.DEVICE_MAX_MESSAGE_AGE_SECONDS }, batch),
        afterCommit: async (result) => {
          metrics.ingestMessages.inc({ outcome: 'accepted' }, result.accepted);
          metrics.ingestMessages.inc({ outcome: 'duplicate' }, result.duplicates);
          for (const [reason, n] of Object.entries(result.quarantined)) {
            metrics.ingestMessages.inc({ outcome: 'quarantined' }, n);
            metrics.quarantined.inc({ reason }, n);
          }
          metrics.ingestBatchSize.observe(result.accepted + result.duplicates + Object.values(result.quarantined).reduce((a, b) => a + b, 0));
          await enqueueEventChecks(checks, result.followUps);
        },
      });
      const platformMqtt = closers.mqtt;
      closers.mqtt = {
        name: 'MQTT',
        close: async () => {
          await ingest.close(); // commits and acknowledges what is in hand
          await checks.close();
          await platformMqtt?.close();
        },
      };
    }

    if (role === 'api' || role === 'all') {
      const signalFeed = await startSignalFeed(database.sql);
      const runQueue = warningsQueue(producerRedis, env.QUEUE_PREFIX);
      // Read-side handles on every queue, for the dashboard and threeflow_queue_jobs (producer connection).
      const observedQueues = Object.values(queueDefinitions).map((d) => new Queue(d.name, { connection: producerRedis, prefix: env.QUEUE_PREFIX }));
      observeQueueDepth(metrics, observedQueues, { onError: (err, queue) => log.warn({ err: message(err), queue }, 'queue depth not readable') });
      const app = createApp({
        ...deps,
        env,
        signalFeed,
        deviceSecretKey,
        queues: observedQueues,
        startWarningRun: (businessDate) => enqueueWarningRun(runQueue, { db: database.db, clock: systemClock, timeZone: env.BUSINESS_TZ }, { businessDate, trigger: 'api' }),
        registry: {
          provider: env.REGISTRY_PROVIDER_NAME,
          webhookSecret: env.REGISTRY_WEBHOOK_SECRET,
          diff,
          ...(pullQueue ? { startPull: (trigger: 'schedule' | 'api') => enqueueRegistryPull(pullQueue, { db: database.db, clock: systemClock, provider: env.REGISTRY_PROVIDER_NAME }, trigger) } : {}),
        },
        readiness: [
          { name: 'postgres', check: () => checkDatabase(database.sql) },
          { name: 'redis', check: async () => void (await producerRedis.ping()) },
          { name: 'broker', check: async () => assertConnected(mqttClient) },
        ],
      });
      const server = await listen(app.fetch, env.HOST, env.PORT).catch((e: unknown) => {
        throw new StartupError(`HTTP server could not listen on ${env.HOST}:${env.PORT}: ${message(e)} (set PORT)`);
      });
      closers.http = {
        name: 'HTTP',
        close: async () => {
          await signalFeed.close(); // ends the live streams' source before the server waits for them
          await closeServer(server, Math.min(5000, env.SHUTDOWN_TIMEOUT_MS / 2));
          await Promise.allSettled([runQueue.close(), ...observedQueues.map((q) => q.close())]); // before Redis closes
        },
      };
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : env.PORT;
      const base = env.PUBLIC_URL ?? `http://localhost:${port}`;
      log.info({ role, port, url: base }, 'listening');
      process.stdout.write(
        [
          '',
          `threeflow is up (role ${role}, business time zone ${env.BUSINESS_TZ})`,
          `  Console   ${base}/console   (risk officers: sign in with an API key)`,
          `  API       ${base}/v1   (Authorization: Bearer <key>)`,
          `  Docs      ${base}/docs`,
          `  OpenAPI   ${base}/openapi.json`,
          `  Metrics   ${base}/metrics`,
          `  Queues    ${base}${QUEUE_DASHBOARD_PATH}   (platform admins; Basic auth, API key as password)`,
          `  Health    ${base}/healthz   Ready ${base}/readyz`,
          `  MQTT      ${redactUrl(mqttSettings.url)}${env.MQTT_URL ? '' : ' (embedded)'}`,
          `  Database  ${redactUrl(databaseUrl)}${env.DATABASE_URL ? '' : ' (embedded)'}`,
          '',
        ].join('\n') + '\n',
      );
    } else {
      log.info({ role }, 'started');
      if (env.METRICS_PORT !== undefined) {
        // No API in this process: a listener of its own so the counters of the work done here can be scraped.
        const server = await listen(
          async (req) => {
            const path = new URL(req.url).pathname;
            if (path === '/metrics') return new Response(await metrics.registry.metrics(), { headers: { 'content-type': metrics.registry.contentType } });
            if (path === '/healthz') return Response.json({ status: 'ok' });
            return new Response('not found: this listener serves /metrics and /healthz\n', { status: 404 });
          },
          env.HOST,
          env.METRICS_PORT,
        ).catch((e: unknown) => {
          throw new StartupError(`metrics listener could not listen on ${env.HOST}:${env.METRICS_PORT}: ${message(e)} (set METRICS_PORT)`);
        });
        closers.http = { name: 'metrics listener', close: () => closeServer(server, 1000) };
        const address = server.address();
        process.stdout.write(`threeflow is up (role ${role}); metrics on http://localhost:${typeof address === 'object' && address ? address.port : env.METRICS_PORT}/metrics\n`);
      }
    }
  } catch (e) {
    if (e instanceof StartupError) {
      process.stderr.write(`threeflow: ${e.message}\n`);
    } else {
      log.fatal({ err: e }, 'start-up failed');
    }
    for (const closer of Object.values(closers).reverse()) await closer?.close().catch(() => {});
    process.exit(1);
  }
}

function roleFromArgs(args: string[]): Role | undefined {
  const arg = args.find((a) => a.startsWith('--role='))?.slice('--role='.length) ?? (args[0] && !args[0].startsWith('-') ? args[0] : undefined);
  if (arg === undefined) return undefined;
  if (arg === 'all' || arg === 'api' || arg === 'ingest' || arg === 'jobs') return arg;
  process.stderr.write(`threeflow: unknown role "${arg}"; use api, ingest, jobs or all\n`);
  process.exit(1);
}

async function printBootstrapKey(database: Database, log: Logger, businessTz: string): Promise<void> {
  const created = await bootstrapPlatform({
    ctx: { actor: { type: 'system', name: 'first-start' }, requestId: 'first-start', db: database.db, clock: systemClock, businessTz, log },
    input: { adminEmail: 'admin@threeflow.local' },
  });
  if (!created) return;
  process.stdout.write(
    `\nFirst start: created the platform admin (admin@threeflow.local). Its API key, shown only now:\n\n    ${created.secret}\n\nStore it; only its hash is kept. Use it as "Authorization: Bearer <key>".\n`,
  );
}

function assertConnected(client: MqttClient): void {
  if (!client.connected) throw new Error('not connected to the MQTT broker');
}

function listen(fetch: (req: Request) => Response | Promise<Response>, hostname: string, port: number): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, hostname, port }, () => resolve(server));
    server.once('error', reject);
  });
}

/** Stops accepting, lets in-flight requests finish, then cuts idle and lingering keep-alives. */
function closeServer(server: ServerType, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const s = server as import('node:http').Server;
    const timer = setTimeout(() => s.closeAllConnections?.(), graceMs);
    s.close(() => {
      clearTimeout(timer);
      resolve();
    });
    s.closeIdleConnections?.();
  });
}

function message(e: unknown): string {
  if (e instanceof AggregateError && e.errors.length) return message(e.errors[0]);
  if (e instanceof Error) return e.message || (e as NodeJS.ErrnoException).code || e.name;
  return String(e);
}

void main();
