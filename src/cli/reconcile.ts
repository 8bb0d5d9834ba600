import { connectDatabase } from '../db/client';
import { resolveDatabase } from '../db/resolve';
import { systemClock } from '../lib/clock';
import { reconcileCreditLines } from '../modules/financing/credit-lines';
import { runCli } from './run';

/** `npm run reconcile`: every credit line's cached outstanding against the sum of its journal. Exit 2 on any mismatch. */
void runCli('reconcile', async (env, log) => {
  const resolved = await resolveDatabase(env, log);
  const database = connectDatabase(resolved.url, { max: 2 });
  try {
    const report = await reconcileCreditLines({ ctx: { actor: { type: 'system', name: 'reconcile' }, requestId: 'reconcile', db: database.db, clock: systemClock, businessTz: env.BUSINESS_TZ, log } });
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    if (report.mismatches.length) process.exitCode = 2;
  } finally {
    await database.close();
    await resolved.stop();
  }
});
