// The forward-auth benchmark's baseline: a bare koa app in a process of its own, answering 200 with an
// empty body (and `Cache-Control: no-store`, as Sesame does) on every path. What a reverse proxy's
// auth subrequest would cost if checking the app password were free.
// `node --import tsx test/bench/bare-koa.ts [port]`; prints `listening <url>`.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';

const app = new Koa();
app.use((ctx) => {
  ctx.set('Cache-Control', 'no-store');
  ctx.status = 200;
  ctx.body = '';
});
const server = http.createServer(app.callback());
server.keepAliveTimeout = 65_000;
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  console.log(`listening http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
