import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { Next } from 'koa';
import { VIEWS_DIR } from '../lib/paths.ts';
import type { Ctx } from './context.ts';

/** The few static assets (views/static), read once, served with an ETag. */
export function createStatic() {
  const dir = path.join(VIEWS_DIR, 'static');
  const files = new Map<string, { body: Buffer; type: string; etag: string }>();
  for (const f of fs.readdirSync(dir)) {
    const body = fs.readFileSync(path.join(dir, f));
    files.set(`/static/${f}`, { body, type: path.extname(f), etag: `"${crypto.createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` });
  }
  return async function serveStatic(ctx: Ctx, next: Next) {
    const file = ctx.method === 'GET' || ctx.method === 'HEAD' ? files.get(ctx.path) : undefined;
    if (!file) return next();
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.set('ETag', file.etag);
    if (ctx.get('If-None-Match') === file.etag) { ctx.status = 304; return; }
    ctx.type = file.type;
    ctx.body = file.body;
  };
}
