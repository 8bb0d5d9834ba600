import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { createMetrics, observeQueueDepth } from '../../src/http/metrics';
import { call, expectProblem, factories, services, testApp } from '../support/harness';
import { testServices } from '../support/services';

const prefix = `${inject('queuePrefix')}_ops`;
let redis: Redis;
let warnings: Queue;
let webhooks: Queue;
let app: Awaited<ReturnType<typeof testApp>>['app'];
let admin: string;
let adminUserId: string;
let riskOfficer: string;

const basic = (secret: string, user = 'ops') => `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;

beforeAll(async () => {
  redis = new Redis(testServices().redisUrl, { maxRetriesPerRequest: 1 });
  warnings = new Queue('warnings', { connection: redis, prefix });
  webhooks = new Queue('webhooks', { connection: redis, prefix });
  const metrics = createMetrics({ defaultMetrics: false });
  observeQueueDepth(metrics, [warnings, webhooks]);
  ({ app } = await testApp({ metrics, queues: [warnings, webhooks] }));
  const f = await factories();
  const adminActor = await f.actor('platform_admin');
  admin = adminActor.key;
  adminUserId = adminActor.userId;
  riskOfficer = (await f.actor('risk_officer')).key;
});

afterAll(async () => {
  await warnings.close();
  await webhooks.close();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

describe('BullMQ dashboard at /admin/queues', () => {
  it('asks for credentials with a Basic challenge and a problem document', async () => {
    const res = await call(app, 'GET', '/admin/queues');
    expectProblem(res, 401, 'unauthenticated');
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="threeflow admin"');
    for (const path of ['/admin/queues/api/queues', '/admin/queues/static/favicon-32x32.png', '/admin']) {
      expectProblem(await call(app, 'GET', path), 401, 'unauthenticated');
    }
  });

  it('rejects a wrong key, also sent as Basic, with the challenge again', async () => {
    const res = await call(app, 'GET', '/admin/queues', { headers: { authorization: basic('tfk_not-a-real-key-0123456789abcdef') } });
    expectProblem(res, 401, 'unauthenticated');
    expect(res.headers.get('www-authenticate')).toContain('Basic');
    expectProblem(await call(app, 'GET', '/admin/queues', { headers: { authorization: 'Basic !!!' } }), 401, 'unauthenticated');
  });

  it('refuses every role but platform_admin', async () => {
    expectProblem(await call(app, 'GET', '/admin/queues', { key: riskOfficer }), 403, 'forbidden');
    expectProblem(await call(app, 'GET', '/admin/queues/api/queues', { headers: { authorization: basic(riskOfficer) } }), 403, 'forbidden');
  });

  it('serves the dashboard page to a platform admin by Bearer and by Basic', async () => {
    for (const headers of [{ authorization: `Bearer ${admin}` }, { authorization: basic(admin) }, { authorization: basic(admin, '') }]) {
      const res = await call(app, 'GET', '/admin/queues', { headers });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.text).toContain('<base href="/admin/queues/"');
    }
    const slash = await call(app, 'GET', '/admin/queues/', { key: admin });
    expect(slash.status).toBe(308);
    expect(slash.headers.get('location')).toBe('/admin/queues');
    const deep = await call(app, 'GET', '/admin/queues/queue/warnings', { key: admin });
    expect(deep.status).toBe(200);
  });

  it('serves the assets the page references under its base path', async () => {
    const page = await call(app, 'GET', '/admin/queues', { key: admin });
    const scripts = [...page.text.matchAll(/src="(static\/js\/[^"]+\.js)"/g)].map((m) => m[1]!);
    const styles = [...page.text.matchAll(/href="(static\/css\/[^"]+\.css)"/g)].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    expect(styles.length).toBeGreaterThan(0);
    const js = await app.request(`/admin/queues/${scripts[0]}`, { headers: { authorization: basic(admin) } });
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect((await js.text()).length).toBeGreaterThan(100);
    const css = await app.request(`/admin/queues/${styles[0]}`, { headers: { authorization: basic(admin) } });
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    await css.text();
    expectProblem(await call(app, 'GET', '/admin/queues/static/js/nope.js', { key: admin }), 404, 'not_found');
    expectProblem(await call(app, 'GET', '/admin/queues/static/..%2f..%2fpackage.json', { key: admin }), 404, 'not_found');
  });

  it('its JSON API lists the queues passed in', async () => {
    await warnings.add('run-day', { trigger: 'api' }, { delay: 60_000 });
    const res = await call(app, 'GET', '/admin/queues/api/queues?activeQueue=warnings&status=delayed&page=1', { headers: { authorization: basic(admin) } });
    expect(res.status).toBe(200);
    const names = (res.body.queues as { name: string }[]).map((q) => q.name).sort();
    expect(names).toEqual(['warnings', 'webhooks']);
    const queue = (res.body.queues as { name: string; counts: Record<string, number> }[]).find((q) => q.name === 'warnings')!;
    expect(queue.counts.delayed).toBeGreaterThanOrEqual(1);
  });

  it('refuses a cross-site state change made with cached Basic credentials', async () => {
    const res = await call(app, 'PUT', '/admin/queues/api/queues/webhooks/pause', {
      headers: { authorization: basic(admin), origin: 'https://elsewhere.example' },
    });
    expectProblem(res, 403, 'forbidden');
    expect(await webhooks.isPaused()).toBe(false);
    // The dashboard itself (same origin) may pause and resume.
    const sameOrigin = { authorization: basic(admin), origin: 'http://localhost', 'sec-fetch-site': 'same-origin' };
    expect((await call(app, 'PUT', '/admin/queues/api/queues/webhooks/pause', { headers: sameOrigin })).status).toBeLessThan(300);
    expect(await webhooks.isPaused()).toBe(true);
    expect((await call(app, 'PUT', '/admin/queues/api/queues/webhooks/resume', { headers: sameOrigin })).status).toBeLessThan(300);
    expect(await webhooks.isPaused()).toBe(false);
    // Each change made from the dashboard is audited under the admin who made it.
    const { database } = await services();
    const audited = await database.sql<{ subject_id: string; actor_user_id: string }[]>`
      select subject_id, actor_user_id from audit_events where action = 'admin.queue_action' and actor_user_id = ${adminUserId} order by seq`;
    expect(audited.map((a) => a.subject_id)).toEqual(['/admin/queues/api/queues/webhooks/pause', '/admin/queues/api/queues/webhooks/resume']);
  });

  it('stays out of the OpenAPI document', async () => {
    const doc = await call(app, 'GET', '/openapi.json');
    expect(Object.keys(doc.body.paths).filter((p) => p.startsWith('/admin'))).toEqual([]);
  });

  it('answers 503 when the process has no queues', async () => {
    const { app: bare } = await testApp();
    const res = await call(bare, 'GET', '/admin/queues', { key: admin });
    expectProblem(res, 503, 'unavailable');
    expect(res.body.detail).toMatch(/Redis/);
    expectProblem(await call(bare, 'GET', '/admin/queues/api/queues', { key: admin }), 503, 'unavailable');
    expectProblem(await call(bare, 'GET', '/admin/queues', { key: riskOfficer }), 403, 'forbidden');
  });
});

describe('/metrics for operations', () => {
  it('reports queue depth per queue and state', async () => {
    await webhooks.add('deliver', { deliveryId: '00000000-0000-4000-8000-000000000000' });
    const text = await (await app.request('/metrics')).text();
    expect(text).toContain('# TYPE threeflow_queue_jobs gauge');
    expect(text).toMatch(/threeflow_queue_jobs\{queue="webhooks",state="waiting"\} [1-9]\d*/);
    expect(text).toMatch(/threeflow_queue_jobs\{queue="warnings",state="delayed"\} [1-9]\d*/);
    for (const state of ['active', 'failed', 'completed', 'prioritized', 'waiting-children']) {
      expect(text).toContain(`threeflow_queue_jobs{queue="webhooks",state="${state}"}`);
    }
  });

  it('names the warning-run metrics', async () => {
    const text = await (await app.request('/metrics')).text();
    for (const name of [
      'threeflow_warning_run_duration_seconds',
      'threeflow_warning_run_subjects_total',
      'threeflow_warning_run_subjects_per_second',
      'threeflow_warning_signals_total',
      'threeflow_warning_run_failures_total',
      'threeflow_warning_run_last_success_timestamp_seconds',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });

  it('the warning-run metrics take the labels the T+1 worker uses', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.warningRunDuration.observe({ status: 'succeeded' }, 42);
    metrics.warningRunSubjects.inc({ kind: 'credit_line' }, 10);
    metrics.warningRunSubjectsPerSecond.set(12.5);
    metrics.warningSignals.inc({ rule: 'overdue_repayment', severity: 'red', source: 't1' });
    metrics.warningSignals.inc({ rule: 'device_silent', severity: 'orange', source: 'realtime' });
    metrics.warningRunFailures.inc();
    metrics.warningRunLastSuccess.set(1_700_000_000);
    const text = await metrics.registry.metrics();
    expect(text).toContain('threeflow_warning_run_duration_seconds_bucket{le="60",status="succeeded"} 1');
    expect(text).toContain('threeflow_warning_run_duration_seconds_bucket{le="1800",status="succeeded"} 1');
    expect(text).toContain('threeflow_warning_run_subjects_total{kind="credit_line"} 10');
    expect(text).toContain('threeflow_warning_run_subjects_per_second 12.5');
    expect(text).toContain('threeflow_warning_signals_total{rule="overdue_repayment",severity="red",source="t1"} 1');
    expect(text).toContain('threeflow_warning_signals_total{rule="device_silent",severity="orange",source="realtime"} 1');
    expect(text).toContain('threeflow_warning_run_failures_total 1');
    expect(text).toContain('threeflow_warning_run_last_success_timestamp_seconds 1700000000');
  });

  it('a queue that cannot be read is skipped and reported, and /metrics still answers', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const errors: string[] = [];
    const broken = { name: 'broken', getJobCounts: async () => Promise.reject(new Error('Connection is closed.')) };
    const slow = { name: 'slow', getJobCounts: () => new Promise<never>(() => {}) };
    observeQueueDepth(metrics, [broken, slow, webhooks] as unknown as Queue[], { onError: (_err, queue) => errors.push(queue), timeoutMs: 200 });
    const { app: own } = await testApp({ metrics });
    const res = await own.request('/metrics');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain('queue="broken"');
    expect(text).not.toContain('queue="slow"');
    expect(text).toContain('threeflow_queue_jobs{queue="webhooks",state="waiting"}');
    expect(errors.sort()).toEqual(['broken', 'slow']);
  });
});
