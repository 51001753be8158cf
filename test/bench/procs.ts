// What the separate-process benchmarks share: where a real `sesame serve` runs (a fresh database and
// key prefix on DATABASE_URL + REDIS_URL, a private PostgreSQL + Redis, or the embedded PGlite), a
// plain child process (the bare baselines), and what a server process spends (CPU, RSS from /proc).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { ROOT_DIR } from '../../src/lib/paths.ts';
import { cliFor, dropDatabase, freshDatabaseUrl, privateDeployment, waitFor } from '../helpers/processes.ts';

export interface BenchDeployment {
  /** What it runs on, for the report. */
  mode: 'embedded' | 'postgres';
  label: string;
  /** What every node of it runs with. */
  env: Record<string, string>;
  /** `sesame …` against it, in this process (before a node starts, on the embedded default: PGlite is
   *  one process's); its JSON output. */
  cli(args: string[], extraEnv?: Record<string, string>): Promise<Record<string, string>>;
  /** Removes this run's database, keys and files (the shared services stay as they were). */
  destroy(): Promise<void>;
}

function tempDir(name: string) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `sesame-${name}-`));
}

/** A fresh database and key prefix of this run's own on the given PostgreSQL and Redis. */
export async function sharedDeployment(name: string, databaseUrl: string, redisUrl: string): Promise<BenchDeployment> {
  const dataDir = tempDir(name);
  const run = crypto.randomBytes(4).toString('hex');
  const database = `sesame_${name.replace(/\W/g, '_')}_bench_${run}`;
  const prefix = `sesame-${name}-bench-${run}:`;
  const env: Record<string, string> = {
    DATABASE_URL: freshDatabaseUrl(databaseUrl, database),
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    DATA_DIR: dataDir,
    KEYS_DIR: path.join(dataDir, 'keys'),
  };
  const cli = cliFor(env);
  await cli(['migrate']);
  return {
    mode: 'postgres',
    label: 'PostgreSQL + Redis (DATABASE_URL, REDIS_URL)',
    env,
    cli,
    async destroy() {
      dropDatabase(databaseUrl, database);
      const { createClient } = await import('redis');
      const redis = createClient({ url: redisUrl });
      await redis.connect();
      for await (const keys of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 }))
        if (keys.length) await redis.del(keys);
      redis.destroy();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The embedded default (PGlite under a DATA_DIR of its own, the in-process store), as a plain
 *  `npm start` runs. */
export async function embeddedDeployment(name: string): Promise<BenchDeployment> {
  const dataDir = tempDir(name);
  const env: Record<string, string> = { DATA_DIR: dataDir, KEYS_DIR: path.join(dataDir, 'keys') };
  const cli = cliFor(env);
  await cli(['migrate']);
  return {
    mode: 'embedded',
    label: 'embedded (PGlite + in-process store)',
    env,
    cli,
    async destroy() {
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Where a benchmark's node runs: DATABASE_URL + REDIS_URL when both are set (a fresh database and
 *  prefix), else `fallback`: the embedded default, or a private PostgreSQL + Redis (memory.ts). */
export async function benchDeployment(
  name: string,
  fallback: 'embedded' | 'private' = 'embedded',
): Promise<BenchDeployment> {
  const { DATABASE_URL, REDIS_URL } = process.env;
  if (DATABASE_URL && REDIS_URL) return sharedDeployment(name, DATABASE_URL, REDIS_URL);
  if (fallback === 'embedded') return embeddedDeployment(name);
  const d = await privateDeployment(name);
  return {
    mode: 'postgres',
    label: 'private PostgreSQL + Redis',
    env: d.env,
    cli: d.cli,
    destroy: () => d.destroy(),
  };
}

/** A process's resident memory (VmRSS, or its peak VmHWM) in kB. */
export function rssKb(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!m) throw new Error(`no ${field} for ${pid}`);
  return Number(m[1]);
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds a process has spent so far, user + system (/proc/<pid>/stat utime + stime). */
export function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** What a process spent while `fn` ran: CPU as a share of one core, RSS at the end. */
export async function spentBy<T>(
  pid: number,
  fn: () => Promise<T>,
): Promise<{ value: T; cpuPercent: number; rssMiB: number }> {
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  const value = await fn();
  const seconds = (performance.now() - t0) / 1000;
  const cpuPercent = ((cpuSeconds(pid) - cpu0) / seconds) * 100;
  return { value, cpuPercent, rssMiB: rssKb(pid) / 1024 };
}

export interface ChildServer {
  url: string;
  pid: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

/** A TypeScript script of this repository in a node process of its own (tsx registered in it, as
 *  `sesame serve` does). It prints `listening <url>` once it listens. */
export async function startScript(
  script: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<ChildServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT_DIR, script), ...args], {
    cwd: ROOT_DIR,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? os.tmpdir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) =>
    child.once('exit', () => {
      children.delete(child);
      r();
    }),
  );
  const url = await waitFor(
    `${script} to listen\n${out}`,
    () => {
      if (child.exitCode !== null) throw new Error(`${script} exited ${child.exitCode}: ${out}`);
      return /^listening (\S+)$/m.exec(out)?.[1];
    },
    60_000,
  );
  return {
    url,
    pid: child.pid!,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
