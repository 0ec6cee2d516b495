import { performance } from 'node:perf_hooks';

/** Operations per second of `fn`, measured for about `ms` milliseconds after a warm-up. */
export function opsPerSecond(fn: () => void, ms = 700): number {
  for (let i = 0; i < 50; i++) fn();
  let n = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < 20; i++) fn();
    n += 20;
    elapsed = performance.now() - start;
  }
  return (n * 1000) / elapsed;
}

/**
 * Measures ours and the limit alternately, several rounds, and reports the median of the per-round ratios:
 * both see the same machine noise, which is the point of a ratio.
 */
export function ratio(ours: () => void, limit: () => void, rounds = 5): { ours: number; limit: number; ratio: number } {
  const r: Array<{ ours: number; limit: number; ratio: number }> = [];
  for (let i = 0; i < rounds; i++) {
    const l = opsPerSecond(limit);
    const o = opsPerSecond(ours);
    r.push({ ours: o, limit: l, ratio: o / l });
  }
  r.sort((a, b) => a.ratio - b.ratio);
  return r[Math.floor(r.length / 2)]!;
}

export function report(name: string, m: { ours: number; limit: number; ratio: number }, goal: number, unit: string, limitName: string): boolean {
  const pass = m.ratio >= goal;
  console.log(`${name}: ${m.ours.toFixed(0)} ${unit}; limit (${limitName}) ${m.limit.toFixed(0)} ${unit}; ratio ${m.ratio.toFixed(3)} (goal >= ${goal}) ${pass ? 'PASS' : 'BELOW GOAL'}`);
  return pass;
}
