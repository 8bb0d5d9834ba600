import { asc, eq } from 'drizzle-orm';
import { connectDatabase, redactUrl } from '../db/client';
import { migrateDatabase } from '../db/migrate';
import { resolveDatabase } from '../db/resolve';
import { users } from '../db/schema';
import { systemClock } from '../lib/clock';
import type { Ctx } from '../lib/context';
import { bootstrapPlatform } from '../modules/parties/bootstrap-platform';
import { createApiKey } from '../modules/parties/create-api-key';
import { runCli } from './run';

/**
 * `npm run seed`: on a fresh install, creates the platform admin and prints its API key
 * once. `npm run seed -- --new-key` issues another key for the first platform admin (for
 * an operator with database access who lost the first one). There is no default password.
 */
void runCli('seed', async (env, log) => {
  const newKey = process.argv.includes('--new-key');
  const adminEmail = process.argv.find((a) => a.startsWith('--email='))?.slice('--email='.length) ?? 'admin@threeflow.local';
  const resolved = await resolveDatabase(env, log);
  const database = connectDatabase(resolved.url, { max: 2 });
  try {
    await migrateDatabase(resolved.url);
    const ctx: Ctx = { actor: { type: 'system', name: 'seed' }, requestId: 'seed', db: database.db, clock: systemClock, businessTz: env.BUSINESS_TZ, log };
    const created = await bootstrapPlatform({ ctx, input: { adminEmail } });
    let secret = created?.secret;
    if (!created) {
      if (!newKey) {
        process.stdout.write(`The platform is already set up in ${redactUrl(resolved.url)}. Run \`npm run seed -- --new-key\` to issue another platform admin key.\n`);
        return;
      }
      const [admin] = await database.db.select().from(users).where(eq(users.role, 'platform_admin')).orderBy(asc(users.createdAt)).limit(1);
      if (!admin) throw new Error('no platform admin user exists');
      secret = (await createApiKey({ ctx, input: { userId: admin.id, name: `seed --new-key ${new Date().toISOString()}` } })).secret;
    }
    process.stdout.write(`Platform admin API key (shown only now; only its hash is stored):\n\n    ${secret}\n\n`);
  } finally {
    await database.close();
    await resolved.stop();
  }
});
