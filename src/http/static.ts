import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import type { Next } from 'koa';
import { VIEWS_DIR } from '../lib/paths.ts';
import type { Ctx } from './context.ts';

/** The few static assets (views/static), read once, served with an ETag. */
export function createStatic() {
  const dir = path.join(VIEWS_DIR, 'static');
  const files = new Map<string, { body: Buffer; type: string; etag: string }>();
  const add = (urlPath: string, file: string) => {
    const body = fs.readFileSync(file);
    files.set(urlPath, {
      body,
      type: path.extname(file),
      etag: `"${crypto.createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`,
    });
  };
  for (const f of fs.readdirSync(dir)) add(`/static/${f}`, path.join(dir, f));
  // Browsers ask for /favicon.ico on their own (feed readers, bookmarks, pages without our <link>).
  add('/favicon.ico', path.join(dir, 'favicon.ico'));
  // The browser half of WebAuthn (@simplewebauthn/browser), served from our own origin (CSP 'self').
  const webauthnPkg = path.resolve(
    path.dirname(createRequire(import.meta.url).resolve('@simplewebauthn/browser')),
    '..',
  );
  add('/static/vendor/simplewebauthn-browser.js', path.join(webauthnPkg, 'dist', 'bundle', 'index.umd.min.js'));
  return async function serveStatic(ctx: Ctx, next: Next) {
    const file = ctx.method === 'GET' || ctx.method === 'HEAD' ? files.get(ctx.path) : undefined;
    if (!file) return next();
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.set('ETag', file.etag);
    if (ctx.get('If-None-Match') === file.etag) {
      ctx.status = 304;
      return;
    }
    ctx.type = file.type;
    ctx.body = file.body;
  };
}
