import { EventEmitter } from 'node:events';
import { sql } from 'drizzle-orm';
import type postgres from 'postgres';
import type { DbOrTx } from '../../db/client';

export const SIGNAL_CHANNEL = 'threeflow_signals';

export interface SignalNotice {
  id: string;
  bankOrganizationId: string | null;
  type: 'signal.raised' | 'signal.escalated' | 'signal.updated' | 'signal.acknowledged' | 'signal.resolved';
}

/** Inside the transaction that changed the signal: PostgreSQL delivers the notice only if it commits. */
export async function notifySignal(db: DbOrTx, notice: SignalNotice): Promise<void> {
  await db.execute(sql`select pg_notify(${SIGNAL_CHANNEL}, ${JSON.stringify(notice)})`);
}

export interface SignalFeed {
  subscribe(listener: (notice: SignalNotice) => void): () => void;
  close(): Promise<void>;
}

/**
 * One LISTEN connection per API process fans signal notices out to its server-sent-event
 * streams; any process's change reaches every process's listeners.
 */
export async function startSignalFeed(client: postgres.Sql): Promise<SignalFeed> {
  const events = new EventEmitter();
  events.setMaxListeners(0);
  const listening = await client.listen(SIGNAL_CHANNEL, (payload) => {
    try {
      events.emit('notice', JSON.parse(payload) as SignalNotice);
    } catch {
      // not ours
    }
  });
  return {
    subscribe(listener) {
      events.on('notice', listener);
      return () => events.off('notice', listener);
    },
    close: () => listening.unlisten(),
  };
}
