// The forward-auth benchmark's smoke run (issue 15 item 1: ratios are judged on a quiet machine, not
// here): a short run must complete with zero errors, with the real `sesame serve`, the bare koa app
// and the load generator each in a process of its own, interleaved, and every figure measured.
import { describe, it, expect } from 'vitest';
import { forwardAuthBench } from './bench/forward-auth.ts';

describe('forward-auth benchmark', () => {
  it('bench.forward-auth-smoke: a short run completes with zero errors, every server a process of its own', async () => {
    const lines: string[] = [];
    const r = await forwardAuthBench((l) => lines.push(l), { seconds: 1, pairs: 2, warmupSeconds: 1, connections: 16 });
    expect(r.errors).toBe(0);
    expect(r.runs.map((x) => x.side)).toEqual(['bare koa', 'sesame', 'bare koa', 'sesame']);
    const pids = new Set(r.runs.map((x) => x.serverPid));
    expect(pids.size).toBe(2);
    expect(pids.has(process.pid)).toBe(false);
    for (const run of r.runs) {
      expect(run.ok).toBeGreaterThan(100);
      expect(run.errors).toBe(0);
      expect(run.p99Ms).toBeGreaterThanOrEqual(run.p50Ms);
      expect(run.serverCpuPercent).toBeGreaterThan(0);
      expect(run.serverRssMiB).toBeGreaterThan(10);
    }
    expect(r.ratio).toBeCloseTo(r.subject.rps / r.baseline.rps, 6);
    expect(lines.join('\n')).toMatch(/ratio sesame\/bare koa: \d+\.\d\d/);
  }, 300_000);
});
