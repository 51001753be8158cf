// The separate-process benchmarks' one way to measure: a scenario is the same kind of request to a
// bare baseline and to Sesame, each a server process of its own, driven in turn from a load process
// (load.ts), interleaved (bare, sesame, bare, sesame, …) so that both see the machine in the same
// state. Each run records requests/s, p50/p99, errors, and the server's CPU (share of one core,
// /proc/<pid>/stat) and RSS; the result gives the medians and the ratio sesame/bare.
// Issue 15's scenarios (client credentials, introspection, discovery, …) are more `Side` pairs.
import { runLoad, type LoadGeneratorName, type LoadOptions, type LoadRequest, type LoadResult } from './load.ts';
import { spentBy } from './procs.ts';

export interface Side {
  /** e.g. "bare koa", "sesame". */
  label: string;
  /** The server process (what its CPU and RSS are read from). */
  pid: number;
  request: LoadRequest;
}

export interface Run extends LoadResult {
  side: string;
  pair: number;
  /** The server process measured (never this one, nor the load generator's). */
  serverPid: number;
  serverCpuPercent: number;
  serverRssMiB: number;
}

export interface SideSummary {
  label: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  serverCpuPercent: number;
  serverRssMiB: number;
}

export interface ScenarioResult {
  scenario: string;
  generator: LoadGeneratorName;
  connections: number;
  seconds: number;
  pairs: number;
  runs: Run[];
  /** Medians over the pairs (errors: the sum). */
  baseline: SideSummary;
  subject: SideSummary;
  /** subject / baseline median requests/s; and per pair. */
  ratio: number;
  pairRatios: number[];
  errors: number;
}

export interface ScenarioSpec {
  scenario: string;
  baseline: Side;
  subject: Side;
  generator: LoadGeneratorName;
  load: LoadOptions;
  pairs: number;
  /** Seconds of unrecorded load on each side first (JIT, pools, caches). */
  warmupSeconds: number;
  /** Progress lines (stderr under --json). */
  log: (line: string) => void;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return 0;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function summary(label: string, runs: Run[]): SideSummary {
  const m = (f: (r: Run) => number) => median(runs.map(f));
  return {
    label,
    rps: m((r) => r.rps),
    p50Ms: m((r) => r.p50Ms),
    p99Ms: m((r) => r.p99Ms),
    errors: runs.reduce((a, r) => a + r.errors, 0),
    serverCpuPercent: m((r) => r.serverCpuPercent),
    serverRssMiB: m((r) => r.serverRssMiB),
  };
}

export function formatRun(r: { side: string; pair: number | string } & SideSummary): string {
  return [
    `${r.side.padEnd(12)} ${String(r.pair).padStart(4)}`,
    r.rps.toFixed(0).padStart(9),
    r.p50Ms.toFixed(2).padStart(8),
    r.p99Ms.toFixed(2).padStart(8),
    String(r.errors).padStart(7),
    `${r.serverCpuPercent.toFixed(0)}%`.padStart(6),
    r.serverRssMiB.toFixed(0).padStart(6),
  ].join(' ');
}

export const RUN_HEADER = `${'side'.padEnd(12)} ${'pair'.padStart(4)} ${'req/s'.padStart(9)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'errors'.padStart(7)} ${'CPU'.padStart(6)} ${'RSS MiB'.padStart(6)}`;

async function measure(side: Side, spec: ScenarioSpec, pair: number): Promise<Run> {
  const { value, cpuPercent, rssMiB } = await spentBy(side.pid, () => runLoad(spec.generator, side.request, spec.load));
  const run: Run = {
    ...value,
    side: side.label,
    pair,
    serverPid: side.pid,
    serverCpuPercent: cpuPercent,
    serverRssMiB: rssMiB,
  };
  spec.log(`  ${formatRun({ ...run, label: side.label })}`);
  if (run.firstError) spec.log(`      ${run.firstError}`);
  return run;
}

/** Warm-up, then `pairs` × (baseline, subject). */
export async function runScenario(spec: ScenarioSpec): Promise<ScenarioResult> {
  const { baseline, subject } = spec;
  for (const side of [baseline, subject]) {
    const w = await runLoad(spec.generator, side.request, { ...spec.load, seconds: spec.warmupSeconds });
    // A scenario that fails while warming up fails the same way measured: say so now.
    if (w.errors) throw new Error(`${spec.scenario}: ${side.label} warm-up had ${w.errors} errors: ${w.firstError}`);
  }
  spec.log(`  ${RUN_HEADER}`);
  const runs: Run[] = [];
  for (let pair = 1; pair <= spec.pairs; pair++) {
    runs.push(await measure(baseline, spec, pair));
    runs.push(await measure(subject, spec, pair));
  }
  const of = (label: string) => runs.filter((r) => r.side === label);
  const b = summary(baseline.label, of(baseline.label));
  const s = summary(subject.label, of(subject.label));
  const pairRatios = Array.from({ length: spec.pairs }, (_, i) => {
    const [rb, rs] = [of(baseline.label)[i]!, of(subject.label)[i]!];
    return rs.rps / rb.rps;
  });
  return {
    scenario: spec.scenario,
    generator: spec.generator,
    connections: spec.load.connections,
    seconds: spec.load.seconds,
    pairs: spec.pairs,
    runs,
    baseline: b,
    subject: s,
    ratio: s.rps / b.rps,
    pairRatios,
    errors: b.errors + s.errors,
  };
}

/** The medians and the ratio, as lines. */
export function formatResult(r: ScenarioResult): string[] {
  return [
    `  ${RUN_HEADER.replace('pair', ' ')}`,
    `  ${formatRun({ ...r.baseline, side: r.baseline.label, pair: 'med' })}`,
    `  ${formatRun({ ...r.subject, side: r.subject.label, pair: 'med' })}`,
    `  ratio ${r.subject.label}/${r.baseline.label}: ${r.ratio.toFixed(2)} (per pair ${r.pairRatios.map((x) => x.toFixed(2)).join(', ')})`,
  ];
}
