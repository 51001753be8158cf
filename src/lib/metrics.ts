// Prometheus metrics (prom-client), one registry per node: requests by route group and status with
// their durations, sign-ins by outcome and method, lockouts, emails and SMS sent or failed, the
// latency of PostgreSQL queries and store (Redis) commands, and the process's own (event-loop lag,
// memory, CPU, handles). Served at /metrics with METRICS_TOKEN, or on METRICS_PORT (http/metrics.ts).
// Counting costs a label lookup and an addition: nothing here does I/O.
import { Registry, Counter, Histogram, collectDefaultMetrics } from 'prom-client';

/** Route groups, not paths: a path carries ids (a label per id would grow without bound). */
export type RouteGroup =
  | 'token'
  | 'userinfo'
  | 'introspection'
  | 'revocation'
  | 'authorize'
  | 'discovery'
  | 'jwks'
  | 'provider_other'
  | 'interaction'
  | 'account'
  | 'organization'
  | 'api'
  | 'forward_auth'
  | 'kauth'
  | 'health'
  | 'metrics'
  | 'static'
  | 'pages';

const EXACT: Record<string, RouteGroup> = {
  '/token': 'token',
  '/oauth2/userinfo': 'userinfo',
  '/token/introspection': 'introspection',
  '/token/revocation': 'revocation',
  '/authorize': 'authorize',
  '/.well-known/openid-configuration': 'discovery',
  '/.well-known/oauth-authorization-server': 'discovery',
  '/.well-known/webfinger': 'discovery',
  '/jwks': 'jwks',
  '/auth/forward': 'forward_auth',
  '/healthz': 'health',
  '/livez': 'health',
  '/readyz': 'health',
  '/metrics': 'metrics',
};
const PREFIXES: Array<[string, RouteGroup]> = [
  ['/interaction/', 'interaction'],
  ['/login', 'interaction'],
  ['/account', 'account'],
  ['/org', 'organization'],
  ['/1/', 'api'],
  ['/kauth/', 'kauth'],
  ['/health/', 'health'],
  ['/static/', 'static'],
];

/** The group a path belongs to; `isProviderPath` (asked only for a path no group names) says whether
 *  oidc-provider serves it. */
export function routeGroup(path: string, isProviderPath: (path: string) => boolean): RouteGroup {
  const exact = EXACT[path];
  if (exact) return exact;
  for (const [prefix, group] of PREFIXES) if (path.startsWith(prefix)) return group;
  // Everything else is a page of ours (sign-up, password reset, unlock…) or not found.
  return isProviderPath(path) ? 'provider_other' : 'pages';
}

/** A sign-in's methods as one label: the amr values, sorted ("otp+pwd", "hwk+pwd"). */
export function methodLabel(amr: unknown): string {
  return Array.isArray(amr) && amr.length ? [...amr].map(String).sort().join('+') : 'unknown';
}

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'sesame_' });
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Counter({ name, help, labelNames, registers: [registry] });
  const histogram = <L extends string>(name: string, help: string, labelNames: readonly L[], buckets: number[]) =>
    new Histogram({ name, help, labelNames, buckets, registers: [registry] });
  const requests = counter('sesame_http_requests_total', 'HTTP requests answered, by route group and status', [
    'group',
    'status',
  ]);
  const durations = histogram(
    'sesame_http_request_duration_seconds',
    'Time to answer an HTTP request, by route group',
    ['group'],
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  );
  const signIns = counter(
    'sesame_sign_ins_total',
    'Sign-in steps by outcome (success, wrong_password, rate_limited, second_factor_failed) and method',
    ['outcome', 'method'],
  );
  const lockouts = counter('sesame_lockouts_total', 'Accounts locked, by channel (web sign-in, sync tools)', [
    'channel',
  ]);
  const messages = counter(
    'sesame_messages_total',
    'Emails and SMS handed to their transport, by channel and outcome (sent, failed)',
    ['channel', 'outcome'],
  );
  const dependency = histogram(
    'sesame_dependency_duration_seconds',
    'Latency of PostgreSQL queries and store (Redis) commands, by dependency and outcome',
    ['dependency', 'outcome'],
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
  );
  return {
    registry,
    request(group: RouteGroup, status: number, seconds: number) {
      requests.inc({ group, status: String(status) });
      durations.observe({ group }, seconds);
    },
    signIn(outcome: 'success' | 'wrong_password' | 'rate_limited' | 'second_factor_failed', method: string) {
      signIns.inc({ outcome, method });
    },
    lockout(channel: 'web' | 'sync') {
      lockouts.inc({ channel });
    },
    message(channel: 'email' | 'sms', outcome: 'sent' | 'failed') {
      messages.inc({ channel, outcome });
    },
    /** Times a call to a dependency: `call`'s own promise is returned, untouched. */
    timed<T>(which: 'database' | 'store', call: () => Promise<T>): Promise<T> {
      const started = performance.now();
      const result = call();
      const done = (outcome: 'ok' | 'error') => () =>
        dependency.observe({ dependency: which, outcome }, (performance.now() - started) / 1000);
      result.then(done('ok'), done('error'));
      return result;
    },
    text: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
export type Metrics = ReturnType<typeof createMetrics>;

/** The store with every command timed (`available` is no I/O; `close` is not a command). */
export function timedStore<S extends Record<(typeof STORE_COMMANDS)[number], unknown>>(store: S, metrics: Metrics): S {
  const timed: Record<string, unknown> = {};
  for (const name of STORE_COMMANDS) {
    const command = (store[name] as (...args: unknown[]) => Promise<unknown>).bind(store);
    timed[name] = (...args: unknown[]) => metrics.timed('store', () => command(...args));
  }
  return Object.assign(Object.create(store) as S, timed);
}
const STORE_COMMANDS = [
  'get',
  'set',
  'setIfAbsent',
  'getDel',
  'del',
  'incr',
  'sAdd',
  'setIndexed',
  'sMembers',
  'sRem',
  'publish',
  'ping',
] as const;

/** A transport (mailer, SMS) whose sends are counted as sent or failed. */
export function countedTransport<T extends { send(message: never): Promise<void> }>(
  transport: T,
  channel: 'email' | 'sms',
  metrics: Metrics,
): T {
  const send = transport.send.bind(transport) as (message: unknown) => Promise<void>;
  return Object.assign(Object.create(transport) as T, {
    async send(message: unknown) {
      try {
        await send(message);
        metrics.message(channel, 'sent');
      } catch (err) {
        metrics.message(channel, 'failed');
        throw err;
      }
    },
  });
}

/** What the activity log records, counted: completed sign-ins by method, failed second steps,
 *  lockouts. (Wrong passwords are counted where they are checked, unknown accounts included.) */
export function countActivity(activity: { record(e: ActivityLike): Promise<void> }, metrics: Metrics) {
  const record = activity.record.bind(activity);
  activity.record = (e: ActivityLike) => {
    if (e.type === 'sign_in') metrics.signIn('success', methodLabel(e.details?.amr));
    else if (e.type === 'second_factor_failed') metrics.signIn('second_factor_failed', String(e.details?.method));
    else if (e.type === 'locked') metrics.lockout('web');
    else if (e.type === 'sync_locked') metrics.lockout('sync');
    return record(e);
  };
}
interface ActivityLike {
  type: string;
  details?: Record<string, unknown> | null;
}
