import { spawnSync } from 'node:child_process';
import { createCipheriv, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, openSync, rmSync, writeSync, closeSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { rsaOaepUnwrapper, rsaOaepWrapper } from '../../keys/sealing/data-keys.js';
import { DEFAULT_CHUNK_SIZE } from '../../keys/sealing/format.js';
import { sealModel } from '../../keys/sealing/seal-model.js';
import { discardSink } from '../../keys/sealing/sinks.js';
import { unsealModel } from '../../keys/sealing/unseal-model.js';
import { ChunkPool, defaultThreads } from '../../keys/sealing/worker-pool.js';
import { signModel } from '../../keys/signing/sign.js';

const MIB = 1024 * 1024;
const FILE_MIB = 512;

/** Deterministic pseudo-random model files (AES-CTR keystream under a fixed key), like sharded weights. */
function generateModel(dir: string, totalMib: number): void {
  const ks = createCipheriv('aes-256-ctr', Buffer.alloc(32, 7), Buffer.alloc(16));
  const zero = Buffer.alloc(16 * MIB);
  for (let i = 0, left = totalMib; left > 0; i++, left -= FILE_MIB) {
    const fd = openSync(join(dir, `model-${String(i).padStart(5, '0')}.safetensors`), 'w');
    for (let m = 0; m < Math.min(left, FILE_MIB); m += 16) writeSync(fd, ks.update(zero.subarray(0, Math.min(16, Math.min(left, FILE_MIB) - m) * MIB)));
    closeSync(fd);
  }
}

/** `openssl speed -evp <alg> -bytes 1048576 -seconds <s>` in bytes/s, or null when openssl is absent. */
function opensslSpeed(alg: string, seconds: number): number | null {
  const r = spawnSync('openssl', ['speed', '-evp', alg, '-bytes', '1048576', '-seconds', String(seconds)], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return null;
  const m = /^\S+\s+([0-9.]+)k\s*$/m.exec(r.stdout);
  return m ? Number(m[1]) * 1000 : null;
}

/**
 * node:crypto returns every cipher output in a fresh buffer; V8 collects that garbage only after some tens
 * of MiB, so a step would otherwise inherit the previous step's. Collect between steps (bench only).
 */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as (() => void) | undefined)?.();
}

/** Peak RSS while `fn` runs, sampled every 20 ms (the process total: main thread and workers). */
async function timed<T>(fn: () => Promise<T>): Promise<{ seconds: number; peakRss: number; value: T }> {
  collectGarbage();
  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 20);
  const t0 = performance.now();
  try {
    const value = await fn();
    return { seconds: (performance.now() - t0) / 1000, peakRss: Math.max(peakRss, process.memoryUsage.rss()), value };
  } finally {
    clearInterval(sampler);
  }
}

const gbps = (bytes: number, seconds: number) => bytes / seconds / 1e9;

/**
 * `npm run bench`: seal and unseal a generated model (ZT4AI_BENCH_MODEL_MB, default 2048 MiB, in files of
 * 512 MiB) on one thread and with workers; unseal speed (decrypt + SHA-256 re-hash + chunk checks) as a
 * ratio to `openssl speed -evp aes-256-gcm` on 1 MiB blocks measured just before; peak RSS.
 */
export async function benchModel(): Promise<boolean> {
  const totalMib = Number(process.env.ZT4AI_BENCH_MODEL_MB ?? 2048);
  const chunkSize = Number(process.env.ZT4AI_BENCH_CHUNK ?? DEFAULT_CHUNK_SIZE);
  const bytes = totalMib * MIB;
  const baseRss = process.memoryUsage.rss();
  // ZT4AI_BENCH_DIR=/dev/shm measures the crypto rather than the disk (needs about 3x the model in RAM).
  const root = mkdtempSync(join(process.env.ZT4AI_BENCH_DIR ?? tmpdir(), 'zt4ai-bench-model-'));
  try {
    const model = join(root, 'model');
    mkdirSync(model);
    generateModel(model, totalMib);
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    const rsa = generateKeyPairSync('rsa', { modulusLength: 3072 });
    const signing = await timed(() => signModel(model, { privateKey: ec }));
    const bundle = signing.value.bundleJson;
    const wrapper = rsaOaepWrapper(rsa.publicKey, 'bench-kek');
    const workers = defaultThreads();
    // Started once, outside the timings (from sources every worker first loads tsx: about a second).
    const started = performance.now();
    const pool = workers > 0 ? await ChunkPool.start({ threads: workers }) : null;
    console.log(`model: ${pool?.threads ?? 0} worker threads started in ${(performance.now() - started).toFixed(0)} ms`);
    const on = (threads: number) => (threads > 0 ? { pool } : { threads: 0 });
    const seal = async (threads: number) => {
      const out = join(root, `sealed-${threads}`);
      rmSync(out, { recursive: true, force: true });
      return timed(() => sealModel(model, { outDir: out, key: { wrapper }, bundle, chunkSize, ...on(threads) }));
    };
    const sealN = workers > 0 ? await seal(workers) : null;
    rmSync(join(root, `sealed-${workers}`), { recursive: true, force: true });
    const seal1 = await seal(0);
    const unseal = (threads: number) => timed(() => unsealModel(join(root, 'sealed-0'), { key: rsaOaepUnwrapper(rsa.privateKey), sink: discardSink(), ...on(threads) }));
    const aes1 = opensslSpeed('aes-256-gcm', 3);
    const unseal1 = await unseal(0);
    const aesN = workers > 0 ? opensslSpeed('aes-256-gcm', 3) : null;
    const unsealN = workers > 0 ? await unseal(workers) : null;
    await pool?.close();
    const sha = opensslSpeed('sha256', 2);
    const peak = Math.max(seal1.peakRss, sealN?.peakRss ?? 0, unseal1.peakRss, unsealN?.peakRss ?? 0);
    const mib = (n: number | undefined) => (n === undefined ? '-' : (n / MIB).toFixed(0));
    console.log(`model peak RSS by step (MiB): seal 1 thread ${mib(seal1.peakRss)}, seal workers ${mib(sealN?.peakRss)}, unseal 1 thread ${mib(unseal1.peakRss)}, unseal workers ${mib(unsealN?.peakRss)}`);
    return report({ baseRss, dir: process.env.ZT4AI_BENCH_DIR ?? tmpdir(), totalMib, chunkSize, workers, bytes, signing, seal1, sealN, unseal1, unsealN, aes1, aesN, sha, peak });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

interface Results {
  baseRss: number;
  dir: string;
  totalMib: number;
  chunkSize: number;
  workers: number;
  bytes: number;
  signing: { seconds: number };
  seal1: { seconds: number };
  sealN: { seconds: number } | null;
  unseal1: { seconds: number };
  unsealN: { seconds: number } | null;
  aes1: number | null;
  aesN: number | null;
  sha: number | null;
  peak: number;
}

function report(r: Results): boolean {
  const { bytes } = r;
  const u1 = gbps(bytes, r.unseal1.seconds);
  const uN = r.unsealN ? gbps(bytes, r.unsealN.seconds) : null;
  console.log(`model: ${r.totalMib} MiB in ${Math.ceil(r.totalMib / FILE_MIB)} files under ${r.dir}, chunk ${r.chunkSize / 1024} KiB, ${availableParallelism()} cores (${r.workers} worker threads)`);
  console.log(`model sign (OMS manifest, SHA-256 of every file): ${gbps(bytes, r.signing.seconds).toFixed(2)} GB/s`);
  console.log(`model seal: 1 thread ${gbps(bytes, r.seal1.seconds).toFixed(2)} GB/s${r.sealN ? `; with ${r.workers} workers ${gbps(bytes, r.sealN.seconds).toFixed(2)} GB/s` : ''} (read, re-hash, encrypt, write)`);
  console.log(`model unseal: 1 thread ${u1.toFixed(2)} GB/s${uN !== null ? `; with ${r.workers} workers ${uN.toFixed(2)} GB/s` : ''} (decrypt, re-hash, verify; plaintext discarded)`);
  let pass = true;
  if (r.aes1 === null) {
    console.log('model unseal ratio: openssl not found, the AES-GCM limit is unavailable');
  } else {
    const ratio1 = (u1 * 1e9) / r.aes1;
    pass = ratio1 >= 0.7;
    console.log(`model unseal / openssl aes-256-gcm 1 MiB (${(r.aes1 / 1e9).toFixed(2)} GB/s): 1 thread ratio ${ratio1.toFixed(3)} (goal >= 0.7) ${pass ? 'PASS' : 'BELOW GOAL'}`);
    if (uN !== null && r.aesN !== null) console.log(`model unseal / openssl aes-256-gcm (${(r.aesN / 1e9).toFixed(2)} GB/s): ${r.workers} workers ratio ${((uN * 1e9) / r.aesN).toFixed(3)}`);
    if (r.sha !== null) {
      // One core must both decrypt and hash: its ceiling is the harmonic combination of the two.
      const limit = 1 / (1 / r.aes1 + 1 / r.sha);
      console.log(`model unseal limit on one core, openssl aes-256-gcm + sha256 (${(r.sha / 1e9).toFixed(2)} GB/s) in series: ${(limit / 1e9).toFixed(2)} GB/s; 1 thread reaches ${((u1 * 1e9) / limit).toFixed(3)} of it`);
    }
  }
  const rssOk = r.peak < 256 * MIB;
  console.log(`model peak RSS during seal/unseal: ${(r.peak / MIB).toFixed(0)} MiB, of which ${(r.baseRss / MIB).toFixed(0)} MiB before the bench started (goal < 256 MiB) ${rssOk ? 'PASS' : 'ABOVE GOAL'}`);
  return pass && rssOk;
}
