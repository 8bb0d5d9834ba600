import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { migrateDatabase } from '../../src/db/migrate';
import { testServices, withDatabase } from '../support/services';

const { adminDatabaseUrl } = testServices();
const admin = postgres(adminDatabaseUrl, { max: 1, onnotice: () => {} });
const created: string[] = [];

async function emptyDatabase(): Promise<string> {
  const name = `threeflow_migr_${randomBytes(4).toString('hex')}`;
  await admin.unsafe(`create database ${name}`);
  created.push(name);
  return withDatabase(adminDatabaseUrl, name);
}

afterAll(async () => {
  for (const name of created) await admin.unsafe(`drop database if exists ${name} with (force)`);
  await admin.end();
});

describe('migrations', () => {
  it('build the schema from an empty database, and a second run changes nothing', async () => {
    const url = await emptyDatabase();
    await migrateDatabase(url);
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const tables = (await sql<{ table_name: string }[]>`select table_name from information_schema.tables where table_schema = 'public' order by 1`).map((t) => t.table_name);
      expect(tables).toEqual(expect.arrayContaining(['organizations', 'users', 'api_keys', 'audit_events', 'idempotency_keys']));
      const [before] = await sql<{ n: number }[]>`select count(*)::int as n from drizzle.__drizzle_migrations`;
      await migrateDatabase(url);
      const [after] = await sql<{ n: number }[]>`select count(*)::int as n from drizzle.__drizzle_migrations`;
      expect(after!.n).toBe(before!.n);
    } finally {
      await sql.end();
    }
  });

  it('two processes migrating together do not race (advisory lock)', async () => {
    const url = await emptyDatabase();
    await Promise.all([migrateDatabase(url), migrateDatabase(url), migrateDatabase(url)]);
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const [applied] = await sql<{ n: number }[]>`select count(*)::int as n from drizzle.__drizzle_migrations`;
      const { readdirSync } = await import('node:fs');
      const files = readdirSync(new URL('../../migrations', import.meta.url)).filter((f) => f.endsWith('.sql'));
      expect(applied!.n).toBe(files.length);
    } finally {
      await sql.end();
    }
  });
});
