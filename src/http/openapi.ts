import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from './types';

const require = createRequire(import.meta.url);

/** /openapi.json (OpenAPI 3.1 from the request zod schemas) and /docs (Swagger UI, served locally). */
export function mountApiDocs(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key issued by POST /v1/users/{userId}/api-keys (or printed by `npm run seed`).',
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'threeflow API',
      version: '0.1.0',
      description:
        'Supply-chain and IoT-collateral finance (三流合一). Errors are RFC 9457 problem+json; POSTs honour Idempotency-Key.',
    },
    security: [{ apiKey: [] }],
  });

  const uiDir = dirname(require.resolve('swagger-ui-dist/package.json'));
  const assets: Record<string, { file: string; type: string }> = {
    'swagger-ui.css': { file: 'swagger-ui.css', type: 'text/css; charset=utf-8' },
    'swagger-ui-bundle.js': { file: 'swagger-ui-bundle.js', type: 'text/javascript; charset=utf-8' },
  };
  const cache = new Map<string, string>();
  app.get('/docs/assets/:name', (c) => {
    const asset = assets[c.req.param('name')];
    if (!asset) return c.notFound();
    let content = cache.get(asset.file);
    if (content === undefined) {
      content = readFileSync(join(uiDir, asset.file), 'utf8');
      cache.set(asset.file, content);
    }
    return c.body(content, 200, { 'content-type': asset.type, 'cache-control': 'public, max-age=86400' });
  });
  app.get('/docs', (c) =>
    c.html(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>threeflow API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', persistAuthorization: true });</script>
</body></html>`),
  );
}
