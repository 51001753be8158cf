// The kAuth device API (/1/devices): linking, pending approval requests, decisions, and a
// Server-Sent Events stream. JSON in and out; every call but linking is signed by the device key.
import { PassThrough } from 'node:stream';
import type { Lifecycle } from '../lib/lifecycle.ts';
import Router from '@koa/router';
import { z } from 'zod';
import type { SesameState, Ctx } from '../http/context.ts';
import type { Store } from '../store/store.ts';
import type { AccountsRepo } from '../db/repositories/accounts.ts';
import type { SecondFactorRow } from '../db/repositories/second-factors.ts';
import type { DeviceAuth } from './device-auth.ts';
import type { PushFactor } from './push-factor.ts';
import type { SecurityService } from '../account/security-service.ts';
import { deviceChannel, type DeviceEvent } from './push-transport.ts';
import { AppError } from '../errors.ts';
import { requestInfo } from '../http/request-info.ts';

const EnrolBody = z.object({ request: z.string().min(20).max(8192) });
const DecisionBody = z.object({
  decision: z.enum(['approve', 'deny']),
  number: z.number().int().min(0).max(999).optional(),
  not_me: z.boolean().optional(),
});
const HEARTBEAT_MS = 15_000;
const BODY_LIMIT = 16 * 1024;

export interface DeviceRouterDeps {
  config: { issuer: string };
  store: Store;
  lifecycle: Lifecycle;
  repos: { accounts: AccountsRepo };
  deviceAuth: DeviceAuth;
  factors: { push: PushFactor };
  security: SecurityService;
}

export function createDeviceRouter(deps: DeviceRouterDeps) {
  const { store, deviceAuth: auth } = deps;
  const { issuer } = deps.config;
  const push = deps.factors.push;
  const router = new Router<SesameState>({ prefix: '/1/devices' });
  // Always JSON here, errors too (the error handler reads ctx.state.api), with a stable code.
  router.use(async (ctx, next) => {
    ctx.state.api = true;
    await next();
  });
  // The JSON body was read, parsed and checked at the edge (http/input-guard.ts); a device sends little.
  router.use(async (ctx, next) => {
    if ((ctx.state.bodyBytes ?? 0) > BODY_LIMIT) throw new AppError('invalid_input', { status: 413 });
    // JSON that did not parse, refused before anything else looks at the request.
    if (ctx.method === 'POST' && ctx.is('json') && ctx.request.body === undefined) throw new AppError('invalid_input');
    await next();
  });

  const device = (ctx: Ctx): Promise<SecondFactorRow> =>
    auth.authenticate(ctx.method, `${issuer}${ctx.path}`, ctx.get('Authorization'));
  const parse = <S extends z.ZodType>(schema: S, body: unknown): z.output<S> => {
    const r = schema.safeParse(body);
    if (!r.success) throw new AppError('invalid_input');
    return r.data;
  };

  router.post('/enrol/:token', async (ctx) => {
    const { request } = parse(EnrolBody, ctx.request.body);
    const claimed = await auth.verifyEnrolment(request);
    const linked = await push.completeEnrolment(String(ctx.params.token), claimed);
    if (!linked) throw new AppError('enrolment_invalid');
    const account = await deps.repos.accounts.findById(linked.row.accountId);
    if (!account) throw new AppError('enrolment_invalid');
    const codes = await deps.security.added(account, linked.row, requestInfo(ctx));
    await push.markLinked(account.id, linked.enrolmentId, linked.row.id, codes);
    ctx.status = 201;
    ctx.body = {
      device_id: linked.row.id,
      name: linked.row.name,
      account: account.email,
      issuer,
      api: `${issuer}/1/devices`,
      totp: { secret: linked.seed, algorithm: 'SHA1', digits: 6, period: 30 },
    };
  });

  router.get('/me', async (ctx) => {
    const d = await device(ctx);
    const account = await deps.repos.accounts.findById(d.accountId);
    ctx.body = { device_id: d.id, name: d.name, account: account?.email, linked_at: d.createdAt.toISOString() };
  });

  router.get('/challenges', async (ctx) => {
    const d = await device(ctx);
    ctx.body = { challenges: await push.pendingFor(d) };
  });

  router.post('/challenges/:id', async (ctx) => {
    const d = await device(ctx);
    const body = parse(DecisionBody, ctx.request.body);
    const outcome = await push.decide(d, String(ctx.params.id), {
      approve: body.decision === 'approve',
      number: body.number,
      notMe: body.not_me,
    });
    if (outcome === 'not_found') throw new AppError('challenge_not_found');
    if (outcome === 'expired') throw new AppError('challenge_expired');
    if (outcome === 'already_decided') throw new AppError('already_decided');
    if (outcome === 'wrong_number') throw new AppError('wrong_number');
    ctx.body = { status: outcome };
  });

  /** Server-Sent Events: open requests at once, then each new one as it is made, "decided" when
   *  another device answered, and "removed" (then the end) when the user unlinks this device. */
  router.get('/events', async (ctx) => {
    const d = await device(ctx);
    const stream = new PassThrough();
    // A message may arrive after the stream ended (before its unsubscription is through).
    const send = (event: string, data: unknown) => {
      if (!stream.writableEnded) stream.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const unsubscribe = await store.subscribe(deviceChannel(d.id), (message) => {
      const ev = JSON.parse(message) as DeviceEvent;
      send(ev.type, ev.type === 'challenge' ? ev.challenge : ev);
      if (ev.type === 'removed') stream.end();
    });
    const heartbeat = setInterval(() => {
      if (!stream.writableEnded) stream.write(': keep-alive\n\n');
    }, HEARTBEAT_MS);
    // A node shutting down ends its streams at once; the device reconnects to another node.
    const forget = deps.lifecycle.whenDraining(() => stream.end());
    const stop = () => {
      clearInterval(heartbeat);
      forget();
      void unsubscribe();
    };
    stream.on('close', stop);
    ctx.req.on('close', () => stream.end());
    ctx.req.socket.setTimeout(0);
    ctx.status = 200;
    ctx.set('Content-Type', 'text/event-stream; charset=utf-8');
    ctx.set('Cache-Control', 'no-store');
    ctx.set('X-Accel-Buffering', 'no');
    ctx.body = stream;
    stream.write(': connected\n\n');
    for (const ch of await push.pendingFor(d)) send('challenge', ch);
  });

  return router;
}
