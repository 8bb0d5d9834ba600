import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { migrateDatabase } from '../../src/db/migrate';
import { testServices, withDatabase } from './services';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    queuePrefix: string;
  }
}

/**
 * One database per test run, created from empty by the real migrations and dropped at the
 * end, so two runs (or two developers on one server) never collide. Suites then make
 * their own tenants with the factories.
 */
export default async function setup(project: TestProject) {
  const { adminDatabaseUrl } = testServices();
  const name = `threeflow_test_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const admin = postgres(adminDatabaseUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const databaseUrl = withDatabase(adminDatabaseUrl, name);
  await migrateDatabase(databaseUrl);
  project.provide('databaseUrl', databaseUrl);
  project.provide('queuePrefix', `tftest_${name}`);
  return async () => {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  };
}
