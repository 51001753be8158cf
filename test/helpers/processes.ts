// Real processes for fault, cluster and shutdown tests: Sesame nodes (`sesame serve`, as npm start
// runs it), and a private PostgreSQL or Redis that a test starts, kills and restarts itself. The
// machine's shared services (5432, 6379) are never touched: other test files use them meanwhile.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { ROOT_DIR } from '../../src/lib/paths.ts';

const BIN = path.join(ROOT_DIR, 'src/bin/sesame.js');
const children = new Set<ChildProcess>();
// A failed test must not leave servers behind (CI runs on the session's machine).
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `ms`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  ms = 15_000,
): Promise<T> {
  const until = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

export interface NodeProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** Every JSON log line so far (stdout), and anything else it printed (stderr and non-JSON). */
  logs(): LogLine[];
  output(): string;
  waitForLog(match: RegExp, ms?: number): Promise<LogLine>;
  /** Resolves with how it ended, and how long after the call. */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

export interface NodeOptions {
  env: Record<string, string>;
  port?: number;
  /** Resolve once the process has started, without waiting for it to listen. */
  noWait?: boolean;
  /** How long to wait for it to listen (default 30 s; an embedded first start on a busy machine
   *  compiles and migrates PGlite before it listens). */
  listenWithinMs?: number;
}

/** `sesame serve` in its own process. The env is complete: nothing leaks in from the test's own. */
export async function startNode(opts: NodeOptions): Promise<NodeProcess> {
  const port = opts.port ?? (await freePort());
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? os.tmpdir(),
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(port),
    ISSUER: `http://localhost:${port}`,
    LOG_LEVEL: 'info',
    ...opts.env,
  };
  const child = spawn(process.execPath, [BIN, 'serve'], { env, cwd: ROOT_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const lines: LogLine[] = [];
  let text = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    text += chunk.toString();
    for (const raw of chunk.toString().split('\n')) {
      if (!raw.trim()) continue;
      try {
        lines.push(JSON.parse(raw) as LogLine);
      } catch {
        /* not JSON: kept in output() */
      }
    }
    for (const w of waiters) w();
  };
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    // Lines may be split across chunks: parse whole lines only.
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    if (parts.length) onData(Buffer.from(parts.join('\n') + '\n'));
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  const node: NodeProcess = {
    url: env.ISSUER!,
    port,
    child,
    logs: () => lines,
    output: () => text,
    waitForLog: (match, ms = 20_000) =>
      waitFor(`log ${match} from node :${port}\n${text.slice(-2000)}`, () => lines.find((l) => match.test(l.msg)), ms),
    exited: () => exit,
    async stop(signal = 'SIGTERM') {
      const t0 = Date.now();
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const r = await exit;
      return { ...r, ms: Date.now() - t0 };
    },
  };
  if (!opts.noWait) {
    await Promise.race([
      node.waitForLog(/^Sesame listening/, opts.listenWithinMs ?? 30_000),
      exit.then((r) => {
        throw new Error(`node exited before listening (${JSON.stringify(r)}):\n${text}`);
      }),
    ]);
  }
  return node;
}

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** A PostgreSQL server binary: on PATH, or where Debian's packages put it. */
function pgBinary(cmd: string): string {
  const base = '/usr/lib/postgresql';
  const versions = fs.existsSync(base) ? fs.readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) {
    const file = path.join(base, v, 'bin', cmd);
    if (fs.existsSync(file)) return file;
  }
  return cmd;
}

/** Whether this machine has PostgreSQL's and Redis's server binaries (CI has them; a laptop with
 *  neither skips the fault tests, saying why, instead of failing them). */
export const privateServicesMissing: string | undefined = (() => {
  const missing = ['initdb', 'pg_ctl', 'redis-server'].filter((cmd) => {
    try {
      execFileSync(cmd === 'redis-server' ? cmd : pgBinary(cmd), ['--version'], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  return missing.length ? `needs ${missing.join(', ')} on PATH` : undefined;
})();
/** initdb and pg_ctl refuse root: run them as the postgres user then. */
function pgCommand(cmd: string, args: string[]) {
  const bin = pgBinary(cmd);
  const [file, argv] = asRoot
    ? [fs.existsSync('/usr/sbin/runuser') ? '/usr/sbin/runuser' : 'runuser', ['-u', 'postgres', '--', bin, ...args]]
    : [bin, args];
  return execFileSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 }).toString();
}

export interface PrivateService {
  url: string;
  port: number;
  /** Stops it (PostgreSQL: fast shutdown; Redis: SIGTERM, which writes its append-only file). */
  stop(): Promise<void>;
  /** Kills it without a clean shutdown. */
  kill(): Promise<void>;
  start(): Promise<void>;
  /** Freezes the server process (SIGSTOP): connections stay open, nothing answers. Redis only. */
  pause?(): void;
  resume?(): void;
  /** Removes its files; call once at the end. */
  destroy(): Promise<void>;
}

/** A PostgreSQL cluster of its own on a free port (initdb + pg_ctl), trust auth, user postgres. */
export async function privatePostgres(): Promise<PrivateService> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sesame-pg-'));
  const data = path.join(dir, 'data');
  fs.mkdirSync(data);
  if (asRoot) execFileSync('chown', ['-R', 'postgres:postgres', dir]);
  fs.chmodSync(dir, 0o755);
  pgCommand('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off`;
  const service: PrivateService = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async start() {
      pgCommand('pg_ctl', ['-D', data, '-o', options, '-l', path.join(dir, 'log'), '-w', 'start']);
    },
    async stop() {
      pgCommand('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
    },
    async kill() {
      pgCommand('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    },
    async destroy() {
      try {
        pgCommand('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        /* not running */
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  await service.start();
  return service;
}

/** A redis-server of its own on a free port. `appendonly` as production should run it (README). */
export async function privateRedis(opts: { appendonly?: boolean } = {}): Promise<PrivateService> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sesame-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    opts.appendonly ? 'yes' : 'no',
    '--appendfsync',
    'everysec',
    '--dir',
    dir,
  ];
  const ping = () =>
    new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('error', () => resolve(false));
      s.once('connect', () => s.write('PING\r\n'));
      s.once('data', (d) => {
        s.destroy();
        resolve(d.toString().startsWith('+PONG'));
      });
    });
  const ended = (c: ChildProcess) =>
    c.exitCode !== null || c.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((r) => c.once('exit', () => r()));
  const halt = async (signal: NodeJS.Signals) => {
    if (!child) return;
    const c = child;
    child = undefined;
    c.kill(signal);
    await ended(c);
  };
  const service: PrivateService = {
    url: `redis://127.0.0.1:${port}`,
    port,
    async start() {
      child = spawn('redis-server', args, { stdio: 'ignore' });
      children.add(child);
      await waitFor(`redis on ${port}`, ping, 10_000);
    },
    stop: () => halt('SIGTERM'),
    kill: () => halt('SIGKILL'),
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    async destroy() {
      await halt('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  await service.start();
  return service;
}

/** A database of its own on the machine's PostgreSQL (cluster tests: several nodes, one database). */
function adminSql(base: string, ...statements: string[]) {
  const admin = new URL(base);
  admin.pathname = '/postgres';
  execFileSync('psql', [admin.toString(), '-q', ...statements.flatMap((s) => ['-c', s])], { stdio: 'ignore' });
}

export function freshDatabaseUrl(base: string, name: string): string {
  adminSql(base, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`, `CREATE DATABASE ${name}`);
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
}

export function dropDatabase(base: string, name: string) {
  adminSql(base, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}

/** `sesame …` with this env, in this process (as the command line runs it); its JSON output. */
export function cliFor(env: Record<string, string>): PrivateDeployment['cli'] {
  return async (args, extraEnv = {}) => {
    const { runCli } = await import('../../src/cli/main.ts');
    let out = '';
    const code = await runCli(args, {
      env: { ...env, ...extraEnv, LOG_LEVEL: 'silent' },
      stdout: (s) => (out += s),
      stderr: () => {},
    });
    if (code !== 0) throw new Error(`sesame ${args.join(' ')} exited ${code}: ${out}`);
    return JSON.parse(out || '{}') as Record<string, string>;
  };
}

export interface PrivateDeployment {
  pg: PrivateService;
  redis: PrivateService;
  /** What every node of this deployment runs with (add to it per node). */
  env: Record<string, string>;
  /** `sesame …` against this deployment, in this process; its JSON output. */
  cli(args: string[], extraEnv?: Record<string, string>): Promise<Record<string, string>>;
  destroy(): Promise<void>;
}

/** A PostgreSQL and a Redis of a test file's own, a DATA_DIR, and the env nodes need for them;
 *  the database is migrated. */
export async function privateDeployment(name: string): Promise<PrivateDeployment> {
  const [pg, redis] = await Promise.all([privatePostgres(), privateRedis()]);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `sesame-${name}-`));
  const env: Record<string, string> = {
    DATABASE_URL: pg.url,
    REDIS_URL: redis.url,
    DATA_DIR: dataDir,
    KEYS_DIR: path.join(dataDir, 'keys'),
    RATE_LIMIT_LOGIN_PER_IP: '10000',
    RATE_LIMIT_LOGIN_PER_ACCOUNT: '10000',
  };
  const cli = cliFor(env);
  await cli(['migrate']);
  return {
    pg,
    redis,
    env,
    cli,
    async destroy() {
      await Promise.all([pg.destroy(), redis.destroy()]);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
