// The load process load.ts starts for autocannon and for the node loop:
// `node --import tsx test/bench/load-worker.ts '<json spec>'` prints `LOAD_JSON <result>` and exits.
// The node loop: a keep-alive agent with one socket per connection, each connection sends its next
// request when the previous answer is read, until the time is up; every latency is kept.
import http from 'node:http';
import type { LoadRequest, LoadResult } from './load.ts';

interface Spec {
  engine: 'autocannon' | 'node';
  req: LoadRequest;
  connections: number;
  seconds: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function nodeLoop({ req, connections, seconds }: Spec): Promise<LoadResult> {
  const url = new URL(req.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const body = req.body === undefined ? undefined : Buffer.from(req.body);
  const headers = { ...req.headers, ...(body ? { 'content-length': String(body.length) } : {}) };
  let latencies = new Float64Array(1 << 16);
  let n = 0;
  let ok = 0;
  let errors = 0;
  let firstError: string | undefined;
  const one = () =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      const r = http.request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          path: url.pathname + url.search,
          method: req.method ?? 'GET',
          headers,
        },
        (res) => {
          res.resume();
          res.once('end', () => {
            if (n === latencies.length) {
              const bigger = new Float64Array(latencies.length * 2);
              bigger.set(latencies);
              latencies = bigger;
            }
            latencies[n++] = performance.now() - t0;
            if (res.statusCode === 200) ok++;
            else {
              errors++;
              firstError ??= `status ${res.statusCode}`;
            }
            resolve();
          });
        },
      );
      r.setTimeout(10_000, () => r.destroy(new Error('timeout')));
      r.once('error', (err) => {
        errors++;
        firstError ??= String(err);
        resolve();
      });
      r.end(body);
    });
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < until) await one();
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  agent.destroy();
  const sorted = latencies.subarray(0, n).sort();
  return {
    generator: 'node',
    ok,
    errors,
    seconds: elapsed,
    rps: ok / elapsed,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    ...(firstError ? { firstError } : {}),
  };
}

interface AutocannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  requests: { total: number };
  latency: { p50: number; p99: number };
  statusCodeStats?: Record<string, { count: number }>;
}

async function autocannon({ req, connections, seconds }: Spec): Promise<LoadResult> {
  // Loaded by name only when installed (load.ts checks): no type declarations needed for it.
  const name = 'autocannon';
  const { default: run } = (await import(name)) as {
    default: (opts: Record<string, unknown>) => Promise<AutocannonResult>;
  };
  const r = await run({
    url: req.url,
    method: req.method ?? 'GET',
    headers: req.headers ?? {},
    ...(req.body !== undefined ? { body: req.body } : {}),
    connections,
    duration: seconds,
    timeout: 10,
  });
  const ok = r.statusCodeStats?.['200']?.count ?? r.requests.total - r.non2xx;
  const errors = r.requests.total - ok + r.errors + r.timeouts;
  return {
    generator: 'autocannon',
    ok,
    errors,
    seconds: r.duration,
    rps: ok / r.duration,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    ...(errors
      ? {
          firstError: `statuses ${JSON.stringify(r.statusCodeStats ?? {})}, errors ${r.errors}, timeouts ${r.timeouts}`,
        }
      : {}),
  };
}

const spec = JSON.parse(process.argv[2] ?? '{}') as Spec;
const result = await (spec.engine === 'autocannon' ? autocannon(spec) : nodeLoop(spec));
console.log(`LOAD_JSON ${JSON.stringify(result)}`);
process.exit(0);
