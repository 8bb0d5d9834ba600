/**
 * Where the tests find PostgreSQL, Redis and the MQTT broker. Defaults are this machine's
 * services; point elsewhere with TEST_DATABASE_URL (an admin URL whose user may CREATE
 * DATABASE), TEST_REDIS_URL and TEST_MQTT_URL.
 */
export function testServices() {
  return {
    adminDatabaseUrl: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    redisUrl: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    mqttUrl: process.env.TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883',
  };
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
