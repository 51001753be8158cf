// The load generator of the separate-process benchmarks, always in a process of its own (a load loop
// in the server's event loop would measure the loop). One of, by BENCH_LOAD or the first available:
//  - autocannon (npm, when installed: run through its API in test/bench/load-worker.ts's process),
//  - wrk (a C load generator, when on PATH; a Lua script counts every answer other than 200),
//  - node: test/bench/load-worker.ts's own loop (keep-alive agent, one request in flight per
//    connection, every latency recorded).
// Every run gives the same result shape; any answer other than 200, and any socket error or timeout,
// is an error.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { ROOT_DIR } from '../../src/lib/paths.ts';

export interface LoadRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadOptions {
  connections: number;
  seconds: number;
  /** wrk's threads (default 1: the server under test keeps the other core). */
  threads?: number;
}

export interface LoadResult {
  generator: LoadGeneratorName;
  /** Answers with status 200. */
  ok: number;
  /** Everything else: other statuses, socket errors, timeouts. */
  errors: number;
  seconds: number;
  /** 200 answers per second. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** The first failure seen, when the generator can tell. */
  firstError?: string;
}

export type LoadGeneratorName = 'autocannon' | 'wrk' | 'node';

const WORKER = 'test/bench/load-worker.ts';

function hasAutocannon(): boolean {
  return fs.existsSync(path.join(ROOT_DIR, 'node_modules/autocannon/package.json'));
}

function hasWrk(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    // wrk --version prints its banner and exits 1: present.
    return (err as { code?: string }).code !== 'ENOENT';
  }
}

/** The generator this run uses: BENCH_LOAD when set (and available), else the first available. */
export function loadGenerator(): LoadGeneratorName {
  const asked = process.env.BENCH_LOAD;
  const available: Record<LoadGeneratorName, () => boolean> = {
    autocannon: hasAutocannon,
    wrk: hasWrk,
    node: () => true,
  };
  if (asked) {
    if (!(asked in available)) throw new Error(`BENCH_LOAD=${asked}: one of ${Object.keys(available).join(', ')}`);
    if (!available[asked as LoadGeneratorName]()) throw new Error(`BENCH_LOAD=${asked}: not installed`);
    return asked as LoadGeneratorName;
  }
  return (['autocannon', 'wrk', 'node'] as const).find((g) => available[g]()) ?? 'node';
}

/** Runs `cmd` to its end; its stdout (stderr too on failure). */
function run(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} ended ${code ?? signal}:\n${out}\n${err}`));
    });
  });
}

/** A Lua string literal (the values here are printable ASCII: JSON's escapes are Lua's). */
const lua = (s: string) => JSON.stringify(s);

/** wrk's script: the method and body, and a count of every answer other than 200 across threads,
 *  printed with the percentiles as one JSON line. */
function wrkScript(req: LoadRequest): string {
  return `
wrk.method = ${lua(req.method ?? 'GET')}
${req.body !== undefined ? `wrk.body = ${lua(req.body)}` : ''}
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function response(status, headers, body) if status ~= 200 then bad = bad + 1 end end
function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + t:get("bad") end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"not_200":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,' ..
    '"p50_us":%d,"p99_us":%d}\\n',
    summary.requests, summary.duration, bad, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`;
}

async function wrk(req: LoadRequest, opts: LoadOptions): Promise<LoadResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sesame-wrk-'));
  const script = path.join(dir, 'bench.lua');
  fs.writeFileSync(script, wrkScript(req));
  try {
    const args = [
      `-t${opts.threads ?? 1}`,
      `-c${opts.connections}`,
      `-d${opts.seconds}s`,
      '--timeout',
      '10s',
      '-s',
      script,
      ...Object.entries(req.headers ?? {}).flatMap(([k, v]) => ['-H', `${k}: ${v}`]),
      req.url,
    ];
    const out = await run('wrk', args, (opts.seconds + 30) * 1000);
    const line = /^WRK_JSON (.*)$/m.exec(out)?.[1];
    if (!line) throw new Error(`wrk printed no result:\n${out}`);
    const r = JSON.parse(line) as Record<string, number>;
    const socketErrors = r.connect! + r.read! + r.write! + r.timeout!;
    const seconds = r.duration_us! / 1e6;
    const ok = r.requests! - r.not_200!;
    return {
      generator: 'wrk',
      ok,
      errors: r.not_200! + socketErrors,
      seconds,
      rps: ok / seconds,
      p50Ms: r.p50_us! / 1000,
      p99Ms: r.p99_us! / 1000,
      ...(r.not_200 || socketErrors
        ? {
            firstError: `${r.not_200} answers other than 200; socket errors: connect ${r.connect}, read ${r.read}, write ${r.write}, timeout ${r.timeout}`,
          }
        : {}),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** autocannon or the node loop, in load-worker.ts's process. */
async function worker(engine: 'autocannon' | 'node', req: LoadRequest, opts: LoadOptions): Promise<LoadResult> {
  const spec = JSON.stringify({ engine, req, connections: opts.connections, seconds: opts.seconds });
  const out = await run(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT_DIR, WORKER), spec],
    (opts.seconds + 60) * 1000,
  );
  const line = /^LOAD_JSON (.*)$/m.exec(out)?.[1];
  if (!line) throw new Error(`${WORKER} printed no result:\n${out}`);
  return JSON.parse(line) as LoadResult;
}

/** One timed run of `req` with `opts.connections` connections, from a process of its own. */
export function runLoad(generator: LoadGeneratorName, req: LoadRequest, opts: LoadOptions): Promise<LoadResult> {
  return generator === 'wrk' ? wrk(req, opts) : worker(generator, req, opts);
}
