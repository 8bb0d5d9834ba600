import { Redis } from 'ioredis';

/**
 * Workers retry forever (maxRetriesPerRequest: null, as BullMQ requires); producers fail
 * fast so an API request never hangs on a Redis outage.
 */
export function createRedis(url: string, purpose: 'worker' | 'producer'): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: purpose === 'worker' ? null : 1,
    enableOfflineQueue: purpose === 'worker',
    connectTimeout: 5000,
    lazyConnect: false,
  });
}

/**
 * One attempt, no retries: start-up uses this to fail in one clear line when nothing
 * answers. Returns a warning when Redis would evict BullMQ keys under memory pressure.
 */
export async function probeRedis(url: string): Promise<{ warning: string | null }> {
  const client = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 3000, enableOfflineQueue: false });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    let warning: string | null = null;
    try {
      const policy = (await client.config('GET', 'maxmemory-policy')) as string[];
      if (policy[1] && policy[1] !== 'noeviction') {
        warning = `Redis maxmemory-policy is ${policy[1]}; BullMQ needs noeviction or jobs can silently vanish`;
      }
    } catch {
      // CONFIG may be disabled on managed Redis; the policy is then the operator's to check.
    }
    return { warning };
  } finally {
    client.disconnect();
  }
}
