// The API reference, readable in a browser: Swagger UI (the swagger-ui-dist package, served from
// our own origin — no CDN) reading /1/openapi.json. Linked from the API tokens page.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import Router from '@koa/router';
import type { SesameState } from '../http/context.ts';

export const API_DOCS_PATH = '/docs/api';
/** As strict as our pages': Swagger UI needs no inline script or style. */
const DOCS_CSP =
  "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sesame API reference</title>
<link rel="stylesheet" href="${API_DOCS_PATH}/swagger-ui.css">
</head>
<body>
<div id="api-reference" data-spec="/1/openapi.json"></div>
<script src="${API_DOCS_PATH}/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js"></script>
</body>
</html>
`;

export function createApiDocsRouter() {
  const dir = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const files = new Map(
    Object.entries(ASSETS).map(([f, type]) => [f, { type, body: fs.readFileSync(path.join(dir, f)) }]),
  );
  const router = new Router<SesameState>({ prefix: API_DOCS_PATH });
  router.get('/', (ctx) => {
    ctx.set('Content-Security-Policy', DOCS_CSP);
    ctx.set('Cache-Control', 'no-cache');
    ctx.type = 'html';
    ctx.body = PAGE;
  });
  router.get('/:file', (ctx, next) => {
    const file = files.get(ctx.params.file ?? '');
    if (!file) return next();
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.type = file.type;
    ctx.body = file.body;
  });
  return router;
}
