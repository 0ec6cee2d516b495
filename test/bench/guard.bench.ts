import { performance } from 'node:perf_hooks';
import { InputGuardian } from '../../enclave-runner/guardians/input/input-guardian.js';
import { OutputGuardian } from '../../enclave-runner/guardians/output/output-guardian.js';
import { ratio, report } from './harness.js';

// Deterministic prompt text: ordinary request prose with numbers and names, no attack.
const SENTENCES = [
  'Please summarise the following meeting notes for the quarterly planning review.',
  'The team discussed the migration of the billing service to the new cluster in March.',
  'Anna will prepare the budget table and Tom will check the latency figures of the last release.',
  'Write the summary as five bullet points and keep each point under twenty words.',
  'The customer survey had 412 answers; most people asked for faster search and better export.',
  'List the open risks, who owns each of them, and what we decided to do next week.',
];

function prose(bytes: number): string {
  let out = '';
  for (let i = 0; out.length < bytes; i++) out += `${SENTENCES[i % SENTENCES.length]} `;
  return out.slice(0, bytes);
}

// The floor: one plain regex scan of the same text, the least any pattern-based guard does.
const FLOOR = /\b(?:ignore|disregard) (?:all )?(?:previous|prior|above) instructions\b/i;

function latencies(fn: () => void, n: number): { p50: number; p99: number } {
  for (let i = 0; i < Math.min(200, n); i++) fn();
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    fn();
    t.push(performance.now() - s);
  }
  t.sort((a, b) => a - b);
  return { p50: t[Math.floor(n * 0.5)]!, p99: t[Math.floor(n * 0.99)]! };
}

function printLatency(name: string, ours: { p50: number; p99: number }, floor: { p50: number; p99: number }, goalP99Ms?: number): boolean {
  const us = (ms: number) => (ms < 0.001 ? `${(ms * 1e6).toFixed(0)} ns` : `${(ms * 1000).toFixed(1)} us`);
  const pass = goalP99Ms === undefined || ours.p99 < goalP99Ms;
  const goal = goalP99Ms === undefined ? '' : ` (goal p99 < ${goalP99Ms} ms) ${pass ? 'PASS' : 'BELOW GOAL'}`;
  console.log(`${name}: p50 ${us(ours.p50)}, p99 ${us(ours.p99)}; floor (plain regex scan) p50 ${us(floor.p50)}, p99 ${us(floor.p99)}${goal}`);
  return pass;
}

/**
 * Input-guardian latency at 1 KiB and 16 KiB (in-process, single thread) and output-guardian overhead
 * per streamed token, each next to a plain regex scan of the same text.
 */
export async function benchGuards(): Promise<boolean> {
  const guardian = new InputGuardian();
  const results: boolean[] = [];
  for (const [size, n, goal] of [[1024, 3000, 1], [16384, 300, undefined]] as const) {
    const text = prose(size);
    if (guardian.scan(text).verdict === 'block') throw new Error('bench prompt is blocked');
    const ours = latencies(() => guardian.scan(text), n);
    const floor = latencies(() => FLOOR.test(text), n);
    results.push(printLatency(`input guardian, ${size / 1024} KiB prompt`, ours, floor, goal));
  }
  const text1k = prose(1024);
  const m = ratio(
    () => guardian.scan(text1k),
    () => FLOOR.test(text1k),
    3,
  );
  // Informational bound: the guardian runs ~40 patterns over several views, decoding and a classifier,
  // so "within a thousandfold of one regex scan" is the budget that keeps 1 KiB under a millisecond.
  results.push(report('input guardian, 1 KiB prompts', m, 0.001, 'scans/s', 'plain regex scan'));

  const answer = prose(4096);
  const tokens: string[] = [];
  for (let i = 0; i < answer.length; i += 4) tokens.push(answer.slice(i, i + 4));
  const EMAIL = /[\w.+-]+@[\w-]+\.[\w.]+/;
  const stream = () => {
    const g = new OutputGuardian();
    for (const t of tokens) g.push(t);
    g.flush();
  };
  const floorStream = () => {
    for (const t of tokens) EMAIL.test(t);
  };
  const per = (fn: () => void) => {
    const l = latencies(fn, 60);
    return { p50: l.p50 / tokens.length, p99: l.p99 / tokens.length };
  };
  results.push(printLatency(`output guardian, per streamed token (${tokens.length} tokens of 4 chars)`, per(stream), per(floorStream)));
  return results.every(Boolean);
}
