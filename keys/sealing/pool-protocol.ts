import type { KeyObject } from 'node:crypto';

/** Messages between the chunk pool and its worker threads (structured clone; buffers are transferred). */
export type ToWorker =
  | { readonly t: 'ctx'; readonly id: number; readonly key: KeyObject; readonly noncePrefix: Uint8Array; readonly headerHash: Uint8Array; readonly chunkCount: number }
  | { readonly t: 'drop'; readonly id: number }
  | { readonly t: 'job'; readonly seq: number; readonly ctx: number; readonly op: 'seal' | 'open'; readonly index: number; readonly length: number; readonly buf: ArrayBuffer };

export type FromWorker = { readonly t: 'ready' } | { readonly t: 'done'; readonly seq: number; readonly ok: boolean; readonly buf: ArrayBuffer };
