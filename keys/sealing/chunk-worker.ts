import { parentPort } from 'node:worker_threads';
import { type ChunkContext, openChunkInPlace, sealChunkInPlace } from './chunk-cipher.js';
import type { FromWorker, ToWorker } from './pool-protocol.js';

/**
 * Worker thread entry: seals or opens chunks in place in the buffers it is handed and hands them back.
 * It keeps only KeyObjects (native memory, never a JS copy of the key) and forgets a context when told.
 */
const port = parentPort;
const contexts = new Map<number, ChunkContext>();

function handle(m: ToWorker): void {
  if (m.t === 'ctx') {
    contexts.set(m.id, { key: m.key, noncePrefix: m.noncePrefix, headerHash: m.headerHash, chunkCount: m.chunkCount });
    return;
  }
  if (m.t === 'drop') {
    contexts.delete(m.id);
    return;
  }
  const ctx = contexts.get(m.ctx);
  const buf = Buffer.from(m.buf);
  let ok = false;
  if (ctx && m.op === 'seal') {
    sealChunkInPlace(ctx, m.index, buf, m.length);
    ok = true;
  } else if (ctx) ok = openChunkInPlace(ctx, m.index, buf, m.length);
  const reply: FromWorker = { t: 'done', seq: m.seq, ok, buf: m.buf };
  port!.postMessage(reply, [m.buf]);
}

if (port) {
  port.on('message', handle);
  port.postMessage({ t: 'ready' } satisfies FromWorker);
}
