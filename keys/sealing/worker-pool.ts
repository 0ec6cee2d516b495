import { type KeyObject, createSecretKey } from 'node:crypto';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { KeyError } from '../errors.js';
import type { FromWorker, ToWorker } from './pool-protocol.js';

export interface PoolOptions {
  /** Worker threads to start (>= 1). */
  readonly threads: number;
  /** Give up (and let the caller run single-threaded) when a worker is not ready by then. */
  readonly startTimeoutMs?: number;
  /** Override the worker entry (tests use a missing file to exercise the fallback). */
  readonly workerUrl?: URL;
}

interface Lane {
  readonly worker: Worker;
  pending: number;
}

/** Threads to use by default: one per core beyond the one the caller keeps for reading and hashing. */
export function defaultThreads(): number {
  return Math.max(0, availableParallelism() - 1);
}

/**
 * Worker threads that seal or open chunks in place. Chunks travel as transferred ArrayBuffers (no copy),
 * keys as KeyObjects (cloned natively). `start` resolves to null when workers cannot be loaded, so callers
 * fall back to the single-threaded path.
 */
export class ChunkPool {
  private readonly lanes: Lane[];
  private readonly waiting = new Map<number, { resolve: (r: { ok: boolean; buf: Buffer }) => void; reject: (e: Error) => void; lane: Lane }>();
  private seq = 0;
  private ctxSeq = 0;
  private failure: Error | undefined;

  private constructor(workers: Worker[]) {
    this.lanes = workers.map((worker) => ({ worker, pending: 0 }));
    for (const lane of this.lanes) {
      lane.worker.on('message', (m: FromWorker) => this.onMessage(m));
      lane.worker.on('error', (e) => this.fail(e));
      lane.worker.on('exit', (code) => code !== 0 && this.fail(new Error(`worker exited with code ${code}`)));
    }
  }

  /** Starts `threads` workers; null when they cannot be loaded (e.g. no TypeScript loader from sources). */
  static async start(options: PoolOptions): Promise<ChunkPool | null> {
    const workers: Worker[] = [];
    try {
      for (let i = 0; i < options.threads; i++) workers.push(spawn(options.workerUrl ?? workerEntry()));
      await Promise.all(workers.map((w) => ready(w, options.startTimeoutMs ?? 15_000)));
      return new ChunkPool(workers);
    } catch {
      await Promise.all(workers.map((w) => w.terminate()));
      return null;
    }
  }

  get threads(): number {
    return this.lanes.length;
  }

  /** Shares a container's key and nonce material with every worker; returns the context id. */
  addContext(key: Uint8Array | KeyObject, noncePrefix: Uint8Array, headerHash: Uint8Array, chunkCount: number): number {
    const id = ++this.ctxSeq;
    const keyObject = 'export' in key ? key : createSecretKey(key);
    const m: ToWorker = { t: 'ctx', id, key: keyObject, noncePrefix, headerHash, chunkCount };
    for (const l of this.lanes) l.worker.postMessage(m);
    return id;
  }

  dropContext(id: number): void {
    for (const l of this.lanes) l.worker.postMessage({ t: 'drop', id } satisfies ToWorker);
  }

  /** Seals or opens buf (which must own its whole ArrayBuffer) on the least busy worker. */
  run(ctx: number, op: 'seal' | 'open', index: number, buf: Buffer, length: number): Promise<{ ok: boolean; buf: Buffer }> {
    if (this.failure) return Promise.reject(this.failure);
    const lane = this.lanes.reduce((a, b) => (b.pending < a.pending ? b : a));
    const seq = ++this.seq;
    lane.pending++;
    const ab = buf.buffer as ArrayBuffer;
    return new Promise((resolve, reject) => {
      this.waiting.set(seq, { resolve, reject, lane });
      lane.worker.postMessage({ t: 'job', seq, ctx, op, index, length, buf: ab } satisfies ToWorker, [ab]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.lanes.map((l) => l.worker.terminate()));
  }

  private onMessage(m: FromWorker): void {
    if (m.t !== 'done') return;
    const w = this.waiting.get(m.seq);
    if (!w) return;
    this.waiting.delete(m.seq);
    w.lane.pending--;
    w.resolve({ ok: m.ok, buf: Buffer.from(m.buf) });
  }

  private fail(e: Error): void {
    this.failure ??= new KeyError('ERR_SEAL_IO', `a chunk worker thread failed: ${e.message}`, { cause: e });
    for (const w of this.waiting.values()) w.reject(this.failure);
    this.waiting.clear();
  }
}

/** The worker file beside this module, with this module's extension (.ts from sources, .js from dist/). */
function workerEntry(): URL {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./chunk-worker${ext}`, import.meta.url);
}

/**
 * Node 20 cannot load .ts in a worker by itself: from sources (vitest, tsx) the worker first registers
 * tsx's ESM hooks, then imports the entry. Compiled code starts the .js entry directly.
 */
function spawn(url: URL): Worker {
  // Workers inherit the process's flags; --input-type (node -e scripts) would refuse a worker file.
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
  if (!url.pathname.endsWith('.ts')) return new Worker(url, { execArgv });
  const tsxDir = dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  const api = pathToFileURL(join(tsxDir, 'dist/esm/api/index.mjs')).href;
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(code, { eval: true, execArgv });
}

function ready(w: Worker, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('worker start timed out')), timeoutMs);
    const done = (e?: Error) => {
      clearTimeout(timer);
      w.off('message', onMessage);
      if (e) reject(e);
      else resolve();
    };
    const onMessage = (m: FromWorker) => m.t === 'ready' && done();
    w.on('message', onMessage);
    w.once('error', (e) => done(e));
    w.once('exit', (code) => done(new Error(`worker exited with code ${code} before it was ready`)));
  });
}
