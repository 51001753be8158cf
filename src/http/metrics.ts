// The request side of the metrics (lib/metrics.ts): each answer counted by route group and status
// with its duration, and the /metrics endpoint — on the main port only with METRICS_TOKEN (a bearer
// token, compared in constant time; without one configured the path does not exist), or on
// METRICS_PORT, a listener of its own for a scraper inside the network (main.ts).
import http from 'node:http';
import type { Context, Next } from 'koa';
import type { Metrics } from '../lib/metrics.ts';
import { routeGroup } from '../lib/metrics.ts';
import { isProviderPath } from '../oidc/routes.ts';
import { constantTimeEqual } from '../lib/crypto.ts';

export const METRICS_PATH = '/metrics';

export function createRequestMetrics(metrics: Metrics) {
  return async function countRequest(ctx: Context, next: Next) {
    const started = performance.now();
    try {
      await next();
    } finally {
      const group = routeGroup(ctx.path, isProviderPath);
      metrics.request(group, ctx.status, (performance.now() - started) / 1000);
    }
  };
}

/** GET /metrics on the main port: the bearer token, or nothing here at all. */
export function createMetricsEndpoint(metrics: Metrics, token: string | undefined) {
  return async function metricsEndpoint(ctx: Context, next: Next) {
    if (ctx.path !== METRICS_PATH || !token) return next();
    ctx.set('Cache-Control', 'no-store');
    const offered = /^Bearer (.+)$/i.exec(ctx.get('authorization'))?.[1] ?? '';
    if (!constantTimeEqual(offered, token)) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Bearer realm="metrics"');
      ctx.body = { error: 'invalid_token' };
      return;
    }
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.status = 405;
      ctx.set('Allow', 'GET, HEAD');
      return;
    }
    ctx.type = metrics.contentType;
    ctx.body = await metrics.text();
  };
}

/** METRICS_PORT: /metrics and nothing else, no token (bind it where only the scraper reaches). */
export function createMetricsServer(metrics: Metrics): http.Server {
  return http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== METRICS_PATH || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    metrics.text().then(
      (text) => res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' }).end(text),
      () => res.writeHead(500).end(),
    );
  });
}
