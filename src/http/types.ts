import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { Db } from '../db/client';
import type { Env } from '../env';
import type { Clock } from '../lib/clock';
import type { UserActor } from '../lib/context';
import type { SecretKey } from '../modules/devices/secrets';
import type { DiffOptions } from '../modules/registry/diff';
import type { SignalFeed } from '../modules/warnings/feed';
import type { Metrics } from './metrics';

export interface ReadinessCheck {
  name: 'postgres' | 'redis' | 'broker';
  check: () => Promise<void>;
}

/** What createApp needs; main.ts builds it from real services, tests from the test services. */
export interface AppDeps {
  env: Pick<Env, 'BODY_LIMIT_BYTES' | 'IDEMPOTENCY_TTL_HOURS' | 'BUSINESS_TZ'>;
  db: Db;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  readiness: ReadinessCheck[];
  /** Starts a T+1 run (absent when this process has no queue producer). */
  startWarningRun?: (businessDate: string | undefined) => Promise<{ id: string }>;
  /** Signal notices for the server-sent-event stream (absent: the stream answers 503). */
  signalFeed?: SignalFeed;
  /** BullMQ queues shown on the /admin/queues dashboard (absent: the dashboard answers 503). */
  queues?: readonly Queue[];
  /** Encrypts device secrets at rest (AES-256-GCM). */
  deviceSecretKey: SecretKey;
  registry: {
    provider: string;
    webhookSecret: string | undefined;
    diff: DiffOptions;
    /** Starts a pull run over the watch list; absent when no provider is configured. */
    startPull?: (trigger: 'schedule' | 'api') => Promise<{ id: string }>;
  };
}

export type AppEnv = {
  Variables: {
    requestId: string;
    log: Logger;
    actor: UserActor;
    /** Set by handlers whose response carries a secret: Idempotency-Key then never stores it. */
    idempotencyNoStore?: boolean;
  };
};
