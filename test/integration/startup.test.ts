import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { freePort, startMain, waitForOutput, type Started } from '../support/process';
import { testServices } from '../support/services';

const running: Started[] = [];
afterAll(() => {
  for (const p of running) if (p.child.exitCode === null) p.child.kill('SIGKILL');
});

/** Its own share group and short-lived sessions, so test processes never take each other's (or production's) device messages. */
const isolatedIngest = (name: string) => ({
  INGEST_SHARE_GROUP: `${inject('queuePrefix')}_${name}`.slice(-40).replace(/[^A-Za-z0-9_-]/g, '_'),
  INGEST_WORKER_ID: name,
  INGEST_SESSION_EXPIRY_SECONDS: '5',
  INGEST_CONNECTIONS: '2',
  DEVICE_SECRET_KEY: 'a'.repeat(64),
});

function start(env: Record<string, string>) {
  const p = startMain(env);
  running.push(p);
  return p;
}

async function stop(p: Started): Promise<{ code: number | null; ms: number }> {
  const sent = performance.now();
  p.child.kill('SIGTERM');
  const { code, atMs } = await p.exited;
  return { code, ms: atMs - sent };
}

describe('start-up refuses bad surroundings in one clear message, exit 1', () => {
  it('bad configuration lists every bad variable', async () => {
    const p = start({ DATABASE_URL: 'nonsense', PORT: '-1' });
    const { code } = await p.exited;
    expect(code).toBe(1);
    const [head, ...problems] = p.stderr().trimEnd().split('\n');
    expect(head).toBe('threeflow: Invalid configuration:');
    expect(problems.sort()).toEqual([
      '  - DATABASE_URL: must be a URL starting with postgres:// or postgresql:// (got "nonsense")',
      expect.stringMatching(/^ {2}- PORT: .+\(got "-1"\)$/),
    ]);
    expect(p.stdout()).toBe('');
  });

  it('Redis not answering: one line saying how to start it', async () => {
    const p = start({ DATABASE_URL: inject('databaseUrl'), REDIS_URL: `redis://127.0.0.1:${await freePort()}`, MQTT_URL: testServices().mqttUrl });
    const { code } = await p.exited;
    expect(code).toBe(1);
    const lines = p.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^threeflow: Redis is not reachable at redis:\/\/127\.0\.0\.1:\d+\/? \(.+\)\. Start it with `redis-server/);
  });

  it('PostgreSQL not answering: one line, password not shown', async () => {
    const p = start({ DATABASE_URL: `postgres://app:s3cret@127.0.0.1:${await freePort()}/x` });
    const { code } = await p.exited;
    expect(code).toBe(1);
    expect(p.stderr().trim().split('\n')).toHaveLength(1);
    expect(p.stderr()).toMatch(/^threeflow: PostgreSQL is not reachable at postgres:\/\/app:\*\*\*@127\.0\.0\.1/);
    expect(p.stderr()).not.toContain('s3cret');
  });
});

describe('running on real services', () => {
  it('starts every role, answers /healthz and /readyz, and stops on SIGTERM with exit 0 within 10 s', async () => {
    const { redisUrl, mqttUrl } = testServices();
    const p = start({ DATABASE_URL: inject('databaseUrl'), REDIS_URL: redisUrl, MQTT_URL: mqttUrl, PORT: '0', QUEUE_PREFIX: `${inject('queuePrefix')}_startup`, ...isolatedIngest('startup') });
    const [, port] = await waitForOutput(p, /API +http:\/\/localhost:(\d+)\/v1/);
    expect(p.stdout()).toMatch(/Docs +http:\/\/localhost:\d+\/docs/);
    expect(p.stdout()).toMatch(/Metrics +http:\/\/localhost:\d+\/metrics/);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
    const { code, ms } = await stop(p);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(10_000);
  });

  it('the jobs role serves its own /metrics on METRICS_PORT (T+1 counters are counted where runs happen)', async () => {
    const { redisUrl, mqttUrl } = testServices();
    const p = start({ ...isolatedIngest('jobsmetrics'), THREEFLOW_ROLE: 'jobs', DATABASE_URL: inject('databaseUrl'), REDIS_URL: redisUrl, MQTT_URL: mqttUrl, METRICS_PORT: '0', QUEUE_PREFIX: `${inject('queuePrefix')}_jobsmetrics` });
    const [, port] = await waitForOutput(p, /metrics on http:\/\/localhost:(\d+)\/metrics/);
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('threeflow_warning_run_duration_seconds');
    expect(text).toContain('threeflow_jobs_processed_total');
    expect((await fetch(`http://127.0.0.1:${port}/v1/me`)).status).toBe(404); // no API here
    expect((await stop(p)).code).toBe(0);
  });

  it('the api role alone starts and stops cleanly on SIGINT', async () => {
    const { redisUrl, mqttUrl } = testServices();
    const p = start({ ...isolatedIngest('api'), THREEFLOW_ROLE: 'api', DATABASE_URL: inject('databaseUrl'), REDIS_URL: redisUrl, MQTT_URL: mqttUrl, PORT: '0' });
    await waitForOutput(p, /threeflow is up \(role api/);
    p.child.kill('SIGINT');
    expect((await p.exited).code).toBe(0);
  });
});

describe('embedded defaults (no DATABASE_URL, no MQTT_URL)', () => {
  it('runs a real embedded PostgreSQL and broker, prints the first admin key once, and reuses its data on the next start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'threeflow-embedded-'));
    await chmod(dir, 0o755); // as root, PostgreSQL runs as the postgres user and must reach the folder
    try {
      const env = {
        EMBEDDED_PG_DIR: join(dir, 'pg'),
        EMBEDDED_PG_PORT: String(await freePort()),
        EMBEDDED_MQTT_PORT: String(await freePort()),
        REDIS_URL: testServices().redisUrl,
        PORT: '0',
        QUEUE_PREFIX: `${inject('queuePrefix')}_embedded`,
      };
      const first = start(env);
      const [, port] = await waitForOutput(first, /API +http:\/\/localhost:(\d+)\/v1/, 120_000);
      const key = first.stdout().match(/(tfk_[A-Za-z0-9_-]+)/)?.[1];
      expect(key).toBeDefined();
      expect(first.stdout()).toMatch(/MQTT +mqtt:\/\/127\.0\.0\.1:\d+ \(embedded\)/);
      expect(first.stdout()).toMatch(/Database +postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/threeflow \(embedded\)/);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(await ready.json()).toMatchObject({ status: 'ready' });
      const me = await fetch(`http://127.0.0.1:${port}/v1/me`, { headers: { authorization: `Bearer ${key}` } });
      expect(me.status).toBe(200);
      expect((await stop(first)).code).toBe(0);

      const second = start(env);
      const [, port2] = await waitForOutput(second, /API +http:\/\/localhost:(\d+)\/v1/, 120_000);
      expect(second.stdout()).not.toMatch(/tfk_/);
      const again = await fetch(`http://127.0.0.1:${port2}/v1/me`, { headers: { authorization: `Bearer ${key}` } });
      expect(again.status).toBe(200);
      expect((await stop(second)).code).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
