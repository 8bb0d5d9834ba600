import { readFileSync } from 'node:fs';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../http/types';

/*
 * The risk officer's web pages (风险预警台): static files read once at start-up and served
 * under /console. The page signs in with an API key kept in the tab's sessionStorage and
 * uses the public API like any client, so it needs no session or cookie of its own.
 */
const asset = (name: string) => readFileSync(new URL(`./assets/${name}`, import.meta.url), 'utf8');
const files = {
  'index.html': { body: asset('index.html'), type: 'text/html; charset=utf-8' },
  'app.js': { body: asset('app.js'), type: 'text/javascript; charset=utf-8' },
  'app.css': { body: asset('app.css'), type: 'text/css; charset=utf-8' },
};

// Only our own scripts, styles and API: an injected script or a framing page gets nowhere.
const securityHeaders = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

export function mountRiskConsole(app: OpenAPIHono<AppEnv>): void {
  const serve = (name: keyof typeof files) => (c: { body: (body: string, status: 200, headers: Record<string, string>) => Response }) =>
    c.body(files[name].body, 200, { 'content-type': files[name].type, ...securityHeaders });
  app.get('/console', serve('index.html'));
  app.get('/console/', (c) => c.redirect('/console', 308));
  app.get('/console/app.js', serve('app.js'));
  app.get('/console/app.css', serve('app.css'));
}
