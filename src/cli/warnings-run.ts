import { parseArgs } from 'node:util';
import { z } from 'zod';
import { connectDatabase } from '../db/client';
import { resolveDatabase } from '../db/resolve';
import { addDays, systemClock } from '../lib/clock';
import { runDayInProcess, yesterday as yesterdayIn } from '../modules/warnings/t1-run';
import { runCli } from './run';

/**
 * `npm run warnings:run -- [--date 2026-11-21 | --from 2026-11-01 --to 2026-11-21]`: runs (or
 * re-runs) T+1 in this process for one day or a range (backfill), printing progress.
 */
void runCli('warnings:run', async (env, log) => {
  const { values } = parseArgs({ options: { date: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } } });
  const from = values.from ?? values.date ?? yesterdayIn(systemClock, env.BUSINESS_TZ);
  const to = values.to ?? values.date ?? from;
  for (const d of [from, to]) if (!z.iso.date().safeParse(d).success) throw new Error(`"${d}" is not a date YYYY-MM-DD`);
  if (to < from) throw new Error('--to is before --from');
  const resolved = await resolveDatabase(env, log);
  const database = connectDatabase(resolved.url, { max: 2 });
  try {
    for (let day = from; day <= to; day = addDays(day, 1)) {
      const run = await runDayInProcess(database.db, systemClock, {
        businessDate: day,
        timeZone: env.BUSINESS_TZ,
        onProgress: (done, total) => process.stdout.write(`\r${day}: ${done}/${total} chunks`),
      });
      process.stdout.write(`\r${day}: ${run.status}, ${run.subjectsEvaluated} subjects, ${run.signalsRaised} signals raised or refreshed, ${run.failures} failures\n`);
    }
  } finally {
    await database.close();
    await resolved.stop();
  }
});
