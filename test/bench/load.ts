import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Peak throughput of a closed loop: `concurrency` requests always in flight for `ms`, or until `send` says the
 * prepared work is used up (returns false). Only real requests count: an exhausted source must never inflate the
 * rate (it once did, and the next phase tried to prepare millions of reports).
 */
export async function closedLoop(send: () => Promise<boolean>, concurrency: number, ms: number): Promise<{ rps: number; done: number }> {
  let done = 0;
  const end = performance.now() + ms;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end && (await send())) done++;
    }),
  );
  return { rps: (done * 1000) / (performance.now() - start), done };
}

/**
 * Latency at a fixed offered rate (open loop). Each latency is measured from the request's scheduled start,
 * so a stalled server cannot hide its queueing delay (no coordinated omission).
 */
export async function openLoop(send: () => Promise<unknown>, rps: number, ms: number): Promise<{ p50: number; p99: number; n: number }> {
  const interval = 1000 / rps;
  const count = Math.floor(ms / interval);
  const start = performance.now();
  const latencies: number[] = [];
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    inflight.push(send().then(() => void latencies.push(performance.now() - due)));
  }
  await Promise.all(inflight);
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return { p50: at(0.5), p99: at(0.99), n: latencies.length };
}
