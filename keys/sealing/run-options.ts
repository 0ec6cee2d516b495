import { ChunkPool, defaultThreads } from './worker-pool.js';

/** Progress of a long operation, in plaintext bytes. */
export interface Progress {
  readonly phase: 'hash' | 'seal' | 'unseal';
  readonly done: number;
  readonly total: number;
}

/** Runs `fn` with the caller's pool, a pool started for the call (closed after), or none (threads 0). */
export async function withPool<T>(o: { readonly threads?: number | 'auto'; readonly pool?: ChunkPool | null }, fn: (pool: ChunkPool | null) => Promise<T>): Promise<T> {
  if (o.pool !== undefined) return fn(o.pool);
  const threads = o.threads === undefined || o.threads === 'auto' ? defaultThreads() : o.threads;
  const pool = threads > 0 ? await ChunkPool.start({ threads }) : null;
  try {
    return await fn(pool);
  } finally {
    await pool?.close();
  }
}

/** Turns byte deltas into cumulative progress reports. */
export function progressCounter(phase: Progress['phase'], total: number, onProgress?: (p: Progress) => void): (n: number) => void {
  let done = 0;
  return (n) => {
    done += n;
    onProgress?.({ phase, done, total });
  };
}
