import { redactUrl } from '../db/client';
import { migrateDatabase } from '../db/migrate';
import { resolveDatabase } from '../db/resolve';
import { runCli } from './run';

/** `npm run db:migrate`: applies pending migrations (under the same advisory lock as start-up). */
void runCli('db:migrate', async (env, log) => {
  const database = await resolveDatabase(env, log);
  try {
    await migrateDatabase(database.url);
    process.stdout.write(`migrations applied to ${redactUrl(database.url)}\n`);
  } finally {
    await database.stop();
  }
});
