import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { serve, type ServerType } from '@hono/node-server';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSignalFeed, type SignalFeed } from '../../src/modules/warnings/feed';
import { raiseSignal } from '../../src/modules/warnings/signals';
import { factories, services, testApp } from '../support/harness';

/*
 * The risk console in a real browser (Debian's Chromium, driven by playwright-core): sign in
 * with a key, see the bank's open signals, receive a new one live over the stream, act on it.
 * CI installs the chromium package; nothing is downloaded.
 */
const CHROMIUM = '/usr/bin/chromium';

let browser: Browser;
let server: ServerType;
let base: string;
let feed: SignalFeed;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (CI's .ci/run does)`);
  const { database } = await services();
  feed = await startSignalFeed(database.sql);
  const { app } = await testApp({ signalFeed: feed });
  server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless=new'] });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
  await feed?.close();
});

describe('risk console', () => {
  it('a risk officer signs in, sees open signals worst first, gets a new one live and acknowledges it', async () => {
    const f = await factories();
    const risk = await f.actor('risk_officer');
    const otherBank = await f.actor('risk_officer');
    const { database } = await services();
    const base_ = { subjectType: 'pledge', evidence: { lotCode: 'LOT-7', quantity: 40 } };
    const yellow = await raiseSignal(database.db, new Date(), { ...base_, rule: 'line_utilization_high', subjectType: 'credit_line', subjectId: randomUUID(), bankOrganizationId: risk.organizationId, severity: 'yellow' });
    const red = await raiseSignal(database.db, new Date(), { ...base_, rule: 'unauthorized_outbound', subjectId: randomUUID(), bankOrganizationId: risk.organizationId, severity: 'red' });
    const theirs = await raiseSignal(database.db, new Date(), { ...base_, rule: 'device_offline', subjectId: randomUUID(), bankOrganizationId: otherBank.organizationId, severity: 'red' });

    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    // The refusals this test provokes (a wrong key: 401, a missing note: 400) are the API's answers, not the page's faults.
    page.on('console', (m) => m.type() === 'error' && !/status of 40[01]/.test(m.text()) && problems.push(m.text()));
    await page.goto(`${base}/console`);

    // A wrong key is refused with the API's own words.
    await page.fill('#key', `tfk_${randomBytes(16).toString('hex')}`);
    await page.click('#login button[type=submit]');
    await expect.poll(() => page.textContent('#login-error')).not.toBe('');

    await page.fill('#key', risk.key);
    await page.click('#login button[type=submit]');
    await page.waitForSelector(`tr[data-id="${red.id}"]`);
    expect(await page.isVisible('#login')).toBe(false); // the sign-in form is gone once signed in
    const ids = await page.$$eval('#signals tbody tr', (rows) => rows.map((r) => r.getAttribute('data-id')));
    expect(ids).toEqual([red.id, yellow.id]); // worst first; the other bank's never shows
    expect(ids).not.toContain(theirs.id);
    await page.waitForSelector('#live.on');

    // Raised elsewhere (the night run, an ingest job): it appears without a reload.
    const live = await raiseSignal(database.db, new Date(), { ...base_, rule: 'stock_count_discrepancy', subjectId: randomUUID(), bankOrganizationId: risk.organizationId, severity: 'orange' });
    await page.waitForSelector(`tr[data-id="${live.id}"]`, { timeout: 10_000 });

    await page.click(`tr[data-id="${red.id}"]`);
    await expect.poll(() => page.textContent('#detail pre')).toContain('LOT-7');
    await page.click('#detail button[data-action="Acknowledge"]');
    await expect.poll(() => page.textContent('#detail .error')).toMatch(/note/i); // a note is required
    await page.fill('#note', 'Called the warehouse; checking the gate log');
    await page.click('#detail button[data-action="Acknowledge"]');
    await expect.poll(() => page.textContent('#detail-status')).toContain('acknowledged');
    const [row] = await database.sql<{ status: string; status_note: string; status_changed_by: string }[]>`select status, status_note, status_changed_by from signals where id = ${red.id}`;
    expect(row).toEqual({ status: 'acknowledged', status_note: 'Called the warehouse; checking the gate log', status_changed_by: risk.userId });

    await page.click('nav button[data-tab="digest"]');
    await expect.poll(() => page.textContent('#digest')).toMatch(/threeflow morning digest/);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('is served with a strict content security policy', async () => {
    const res = await fetch(`${base}/console`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect((await fetch(`${base}/console/app.js`)).headers.get('content-type')).toMatch(/javascript/);
  });
});
