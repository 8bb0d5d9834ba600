import type { Env } from '../env';
import type { Logger } from '../lib/logger';

export interface ResolvedDatabase {
  url: string;
  embedded: boolean;
  /** Stops the embedded PostgreSQL if one was started; no-op otherwise. */
  stop(): Promise<void>;
}

/** DATABASE_URL if set; otherwise the embedded PostgreSQL (started on demand). */
export async function resolveDatabase(env: Env, log: Logger): Promise<ResolvedDatabase> {
  if (env.DATABASE_URL) return { url: env.DATABASE_URL, embedded: false, stop: async () => {} };
  log.info({ dir: env.EMBEDDED_PG_DIR, port: env.EMBEDDED_PG_PORT }, 'DATABASE_URL not set: starting embedded PostgreSQL');
  const { startEmbeddedPostgres } = await import('./embedded');
  const embedded = await startEmbeddedPostgres({ dir: env.EMBEDDED_PG_DIR, port: env.EMBEDDED_PG_PORT, log: (line) => log.warn(line) });
  return { url: embedded.url, embedded: true, stop: () => embedded.stop() };
}
