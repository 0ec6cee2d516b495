import type { ChunkPool } from './worker-pool.js';

/** One chunk on its way: its index, the buffer it lives in and its payload length. */
export interface Slot {
  readonly index: number;
  buf: Buffer;
  length: number;
  ok: boolean;
}

export interface OrderedRun {
  readonly count: number;
  /** Each buffer holds a full chunk plus its tag. */
  readonly bufferSize: number;
  /** Sequential: fills slot.buf and slot.length for slot.index. */
  readonly read: (slot: Slot) => Promise<void>;
  /** The crypto step: inline, or on the pool. Sets slot.ok. */
  readonly transform: (slot: Slot) => Promise<void>;
  /** Strictly in index order; the buffer is reused once this resolves. */
  readonly consume: (slot: Slot) => Promise<void>;
  /** Chunks in flight at once (1 when the transform is inline). */
  readonly depth: number;
}

/**
 * Read -> transform -> consume over `count` chunks with at most `depth` buffers alive, so memory is bounded
 * by depth x bufferSize whatever the file size. Reads run in order and consumes run in order, but the two
 * loops overlap (a file read and a file write can be in flight together) and transforms may run on
 * worker threads meanwhile.
 */
export async function runOrdered(r: OrderedRun): Promise<void> {
  const buffers = new Buffers(r.depth, r.bufferSize);
  const ready = new Queue<Promise<Slot>>();
  let stopped = false;
  const producer = (async () => {
    for (let index = 0; index < r.count && !stopped; index++) {
      const buf = await buffers.acquire();
      if (!buf) return;
      const slot: Slot = { index, buf, length: 0, ok: false };
      let done: Promise<Slot>;
      try {
        // Reads stay sequential (the seal hash needs order); transforms overlap with the next reads.
        await r.read(slot);
        done = r.transform(slot).then(() => slot);
      } catch (e) {
        done = Promise.reject(e);
        stopped = true;
      }
      // The consumer awaits it in order; this only keeps an early failure from counting as unhandled.
      done.catch(() => {});
      ready.push(done);
    }
  })();
  try {
    for (let i = 0; i < r.count; i++) {
      const slot = await (await ready.shift());
      try {
        await r.consume(slot);
      } catch (e) {
        slot.buf.fill(0);
        throw e;
      }
      buffers.release(slot.buf);
    }
  } finally {
    stopped = true;
    buffers.close();
    await producer;
    for (const p of ready.drain()) await p.then((s) => s.buf.fill(0), () => {});
    buffers.wipe();
  }
}

/** A fixed number of reusable chunk buffers; acquire waits while all are in use. */
class Buffers {
  private readonly free: Buffer[] = [];
  private readonly waiting: Array<(b: Buffer | null) => void> = [];
  private made = 0;
  private closed = false;

  constructor(
    private readonly max: number,
    private readonly size: number,
  ) {}

  acquire(): Promise<Buffer | null> {
    if (this.closed) return Promise.resolve(null);
    const b = this.free.pop();
    if (b) return Promise.resolve(b);
    if (this.made < this.max) {
      this.made++;
      // Its own ArrayBuffer, so that it can be transferred to a worker and back.
      return Promise.resolve(Buffer.allocUnsafeSlow(this.size));
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(b: Buffer): void {
    const w = this.waiting.shift();
    if (w) w(b);
    else this.free.push(b);
  }

  close(): void {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w(null);
  }

  wipe(): void {
    for (const b of this.free) b.fill(0);
  }
}

/** An unbounded FIFO whose shift waits for the next push. */
class Queue<T> {
  private readonly items: T[] = [];
  private readonly waiting: Array<(v: T) => void> = [];

  push(v: T): void {
    const w = this.waiting.shift();
    if (w) w(v);
    else this.items.push(v);
  }

  shift(): Promise<T> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift()!);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  drain(): T[] {
    return this.items.splice(0);
  }
}

/** The transform step: on the pool when there is one, else inline on this thread. */
export function chunkTransform(pool: ChunkPool | null, ctxId: number, op: 'seal' | 'open', inline: (slot: Slot) => boolean): (slot: Slot) => Promise<void> {
  if (!pool) {
    return async (slot) => {
      slot.ok = inline(slot);
    };
  }
  return async (slot) => {
    const r = await pool.run(ctxId, op, slot.index, slot.buf, slot.length);
    slot.buf = r.buf;
    slot.ok = r.ok;
  };
}

/** Buffers in flight: a few per worker keep them busy while this thread reads and hashes; 2 lets a read overlap a write. */
export function pipelineDepth(pool: ChunkPool | null): number {
  return pool ? pool.threads * 4 + 1 : 1;
}
