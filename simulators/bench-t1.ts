/**
 * T+1 benchmark: builds a book of 10,000 suppliers (credit lines), 50,000 pledges and
 * 1,000,000 movements of business day T in a scratch database, then times the nightly run
 * end to end through BullMQ — open the run, fan out the chunks, evaluate every rule, write
 * the signals — with the real worker. Prints the figures and the machine it ran on.
 *
 *   npm run bench:t1 -- --suppliers 10000 --pledges 5 --movements 1000000 --concurrency 2
 *
 * Needs PostgreSQL (BENCH_DATABASE_URL, an admin URL; a scratch database is created and
 * dropped) and Redis (BENCH_REDIS_URL) — the machine's defaults.
 */
import { cpus, release, totalmem, type as osType } from 'node:os';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { connectDatabase } from '../src/db/client';
import { migrateDatabase } from '../src/db/migrate';
import { createMetrics } from '../src/http/metrics';
import { enqueueWarningRun, startWarningJobs, warningsQueue } from '../src/jobs/warnings';
import { systemClock } from '../src/lib/clock';
import { yesterday } from '../src/modules/warnings/t1-run';
import { createLogger } from '../src/lib/logger';
import { seedBook } from './t1-book';

const { values: args } = parseArgs({
  options: {
    suppliers: { type: 'string', default: '10000' },
    pledges: { type: 'string', default: '5' },
    movements: { type: 'string', default: '1000000' },
    warehouses: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '2' },
    keep: { type: 'boolean', default: false },
  },
});
const TZ = 'Asia/Shanghai';
const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const seconds = (ms: number) => (ms / 1000).toFixed(1);

async function main() {
  const dbName = `threeflow_bench_t1_${Date.now().toString(36)}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${dbName}`);
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  const prefix = `bench_t1_${Date.now().toString(36)}`;
  const workerRedis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const producerRedis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  const database = connectDatabase(url.toString(), { max: 10 });
  try {
    await migrateDatabase(url.toString());
    const T = yesterday(systemClock, TZ);
    const size = { suppliers: Number(args.suppliers), pledgesPerSupplier: Number(args.pledges), movements: Number(args.movements), warehouses: Number(args.warehouses) };
    console.log(`seeding: ${size.suppliers} suppliers, ${size.suppliers * size.pledgesPerSupplier} pledges, ${size.movements} movements on ${T} …`);
    const seedStart = performance.now();
    const book = await seedBook(database.sql, size, { businessDate: T, timeZone: TZ });
    console.log(`seeded in ${seconds(performance.now() - seedStart)} s`);

    const metrics = createMetrics({ defaultMetrics: false });
    const jobs = await startWarningJobs({ db: database.db, clock: systemClock, log: createLogger('warn'), metrics, workerRedis, producerRedis, prefix, timeZone: TZ, cron: '0 2 * * *', concurrency: Number(args.concurrency) });
    const queue = warningsQueue(producerRedis, prefix);
    const started = performance.now();
    const run = await enqueueWarningRun(queue, { db: database.db, clock: systemClock, timeZone: TZ }, { businessDate: T, trigger: 'cli' });
    const fannedOut = performance.now();
    let row: { status: string; chunks_done: number; chunks_total: number; subjects_evaluated: number; signals_raised: number; failures: number };
    let lastPrint = 0;
    for (;;) {
      [row] = await database.sql`select status, chunks_done, chunks_total, subjects_evaluated, signals_raised, failures from warning_runs where id = ${run.id}`;
      if (row!.status !== 'running') break;
      if (performance.now() - lastPrint > 5_000) {
        lastPrint = performance.now();
        console.log(`  ${row!.chunks_done}/${row!.chunks_total} chunks, ${row!.subjects_evaluated} subjects, ${seconds(performance.now() - started)} s`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const totalMs = performance.now() - started;
    await jobs.close();
    await queue.close();
    const bySeverity = await database.sql<{ rule: string; severity: string; n: number }[]>`select rule, severity, count(*)::int as n from signals group by 1, 2 order by 1, 2`;
    const [pg] = await database.sql<{ v: string }[]>`select current_setting('server_version') as v`;
    const cpu = cpus();
    console.log(
      [
        '',
        `T+1 run for ${T} (${TZ}): ${row!.status}`,
        `book      ${size.suppliers} suppliers (credit lines), ${size.suppliers * size.pledgesPerSupplier} pledges, ${size.movements} movements on T, ${size.warehouses} warehouses/devices`,
        `subjects  ${row!.subjects_evaluated} in ${row!.chunks_total} chunks (${row!.failures} failed)`,
        `open run  ${seconds(fannedOut - started)} s (subjects listed, ${row!.chunks_total} jobs added)`,
        `total     ${seconds(totalMs)} s end to end (target: within 120 s)`,
        `rate      ${Math.round(row!.subjects_evaluated / (totalMs / 1000))} subjects/s`,
        `signals   ${row!.signals_raised} raised: ${bySeverity.map((s) => `${s.rule}/${s.severity} ${s.n}`).join(', ')}`,
        `expected  ${book.breachedLines} lines breached (coverage + falling fast), ${book.breachedLines * size.pledgesPerSupplier} unauthorized outbounds, pledges of ${book.silentWarehouses} silent warehouses offline`,
        `worker    concurrency ${args.concurrency}, chunks of 200 subjects`,
        `machine   ${cpu[0]?.model ?? 'unknown CPU'} × ${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ${osType()} ${release()}, Node ${process.version}, PostgreSQL ${pg!.v}; PostgreSQL, Redis and this process on the same machine`,
      ].join('\n'),
    );
  } finally {
    await database.close();
    const keys = await producerRedis.keys(`${prefix}:*`);
    if (keys.length) await producerRedis.del(...keys);
    workerRedis.disconnect();
    producerRedis.disconnect();
    if (!args.keep) await admin.unsafe(`drop database if exists ${dbName} with (force)`);
    else console.log(`kept database ${dbName}`);
    await admin.end();
  }
}

await main();
