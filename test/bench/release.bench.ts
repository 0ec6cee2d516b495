import {
  type KeyObject,
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  generatePrimeSync,
  publicEncrypt,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { toPem } from '../../attestation/snp/certificate.js';
import { SIGNED_LENGTH } from '../../attestation/snp/layout.js';
import { openReleaseResponse } from '../../keys/release/index.js';
import { SimulatedFirmware, createSimulatedRoots } from '../../simulator/index.js';
import { opsPerSecond } from './harness.js';
import { startKrsChild } from './krs-child.js';
import { openLoop } from './load.js';

const ATTEST = '/attest/SevSnpVm?api-version=2022-08-01';
const RELEASE = '/keys/bench-model/release?api-version=7.5';
const b64u = (b: Uint8Array | string): string => Buffer.from(b).toString('base64url');

/** One release flow prepared before the timed part: a fresh TEE key and evidence carrying it, bound to a fresh nonce. */
interface Flow {
  readonly teePrivateKey: KeyObject;
  readonly teeJwk: { kty: 'RSA'; kid: string; n: string; e: string };
  readonly evidence: string;
}

/**
 * Distinct RSA-2048 TEE keys, fast: every pair of a pool of 1024-bit primes (top two bits set) is its own
 * modulus, so 40 primes (about 2 s) give 780 fresh keys where generating each would take 300 ms here.
 */
function teeKeys(count: number): KeyObject[] {
  const primes: bigint[] = [];
  while ((primes.length * (primes.length - 1)) / 2 < count) {
    const p = generatePrimeSync(1024, { bigint: true });
    if ((p - 1n) % 65537n !== 0n) primes.push(p);
  }
  const keys: KeyObject[] = [];
  for (let i = 0; i < primes.length && keys.length < count; i++) {
    for (let j = i + 1; j < primes.length && keys.length < count; j++) keys.push(rsaFromPrimes(primes[i]!, primes[j]!));
  }
  return keys;
}

function rsaFromPrimes(p: bigint, q: bigint): KeyObject {
  const e = 65537n;
  const d = inverse(e, (p - 1n) * (q - 1n));
  const int = (v: bigint): string => Buffer.from(v.toString(16).padStart(2 * Math.ceil(v.toString(16).length / 2), '0'), 'hex').toString('base64url');
  const jwk = { kty: 'RSA', n: int(p * q), e: int(e), d: int(d), p: int(p), q: int(q), dp: int(d % (p - 1n)), dq: int(d % (q - 1n)), qi: int(inverse(q, p)) };
  return createPrivateKey({ key: jwk, format: 'jwk' });
}

function inverse(a: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [a % m, m, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1, s0, s1] = [r1, r0 - q * r1, s1, s0 - q * s1];
  }
  return ((s0 % m) + m) % m;
}

/** `n` flows: fresh TEE keys, challenge nonces and signed reports binding each key (runtime data). */
async function makeFlows(pool: Pool, n: number): Promise<Flow[]> {
  const root = (await createSimulatedRoots({ seed: 'zt4ai' })).Genoa;
  const fw = new SimulatedFirmware({ root });
  const chain = toPem(fw.endorsement.der) + toPem(root.certificates.ask) + toPem(root.certificates.ark);
  const flows: Flow[] = [];
  for (const privateKey of teeKeys(n)) {
    const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
    const teeJwk = { kty: 'RSA' as const, kid: createHash('sha256').update(jwk.n!).digest('base64url'), n: jwk.n!, e: jwk.e! };
    const { nonce } = (await (await pool.request({ path: '/attest/challenge', method: 'POST' })).body.json()) as { nonce: string };
    const runtime = Buffer.from(JSON.stringify({ keys: [teeJwk], nonce }));
    const report = fw.getReport(Buffer.concat([createHash('sha256').update(runtime).digest(), Buffer.alloc(32)]));
    const inner = JSON.stringify({ SnpReport: b64u(report), VcekCertChain: b64u(chain) });
    flows.push({ teePrivateKey: privateKey, teeJwk, evidence: JSON.stringify({ report: b64u(inner), runtimeData: { data: b64u(runtime), dataType: 'JSON' } }) });
  }
  return flows;
}

async function post(pool: Pool, path: string, body: string, token?: string): Promise<string> {
  const headers = { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
  const res = await pool.request({ path, method: 'POST', body, headers });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`${path} answered ${res.statusCode}: ${text.slice(0, 300)}`);
  return text;
}

/** Throughput of exactly `n` sends with `concurrency` in flight (prepared flows are finite, so count, not time). */
async function countedLoop(send: () => Promise<void>, concurrency: number, n: number): Promise<{ rps: number }> {
  let started = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < n) {
        started++;
        await send();
      }
    }),
  );
  return { rps: (n * 1000) / (performance.now() - start) };
}

/** The same cryptography in one process with raw node:crypto, per release: what the KRS cannot avoid doing. */
function rawRelease(): () => void {
  const fwKey = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const report = randomBytes(1184);
  const reportSig = sign('sha384', report.subarray(0, SIGNED_LENGTH), { key: fwKey.privateKey, dsaEncoding: 'ieee-p1363' });
  const tokenKey = generateKeyPairSync('rsa', { modulusLength: 3072 });
  const releaseKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const tee = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
  const claims = Buffer.alloc(2600, 'x');
  const payload = Buffer.alloc(1400, 'y');
  const runtime = randomBytes(600);
  const macKey = randomBytes(32);
  const dek = randomBytes(32);
  const iv = randomBytes(12);
  const sealed = createCipheriv('aes-256-gcm', dek, iv);
  const sealedMaterial = Buffer.concat([sealed.update(randomBytes(32)), sealed.final()]);
  const tag = sealed.getAuthTag();
  return () => {
    // attest: report signature, runtime-data binding, nonce MAC, token signature
    verify('sha384', report.subarray(0, SIGNED_LENGTH), { key: fwKey.publicKey, dsaEncoding: 'ieee-p1363' }, reportSig);
    createHash('sha256').update(runtime).digest();
    createHmac('sha256', macKey).update(runtime.subarray(0, 33)).digest();
    const tokenSig = sign('sha256', claims, tokenKey.privateKey);
    // release: token signature, material at rest, wrap to the TEE key, JWS signature
    verify('sha256', claims, tokenKey.publicKey, tokenSig);
    const open = createDecipheriv('aes-256-gcm', dek, iv).setAuthTag(tag);
    const material = Buffer.concat([open.update(sealedMaterial), open.final()]);
    const transient = randomBytes(32);
    publicEncrypt({ key: tee, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, transient);
    const kwp = createCipheriv('id-aes256-wrap-pad', transient, Buffer.from('A65959A6', 'hex'));
    Buffer.concat([kwp.update(material), kwp.final()]);
    sign('sha256', payload, releaseKey);
  };
}

/**
 * Releases per second end to end over HTTP on loopback (attest, then release to a fresh TEE key each time),
 * the ratio to the raw cost of the same cryptography in one process, and p50/p99 latency at about 70% of peak.
 */
export async function benchRelease(): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), 'zt4ai-bench-release-'));
  const token = randomBytes(24).toString('base64url');
  const { url, child } = await startKrsChild(dir, token);
  const pool = new Pool(url, { connections: 16, pipelining: 1 });
  try {
    const policy = { version: '1.0.0', anyOf: [{ authority: url, allOf: [{ claim: 'x-ms-sevsnpvm-is-debuggable', equals: false }, { claim: 'x-zt4ai-fresh', equals: true }] }] };
    const key = { kty: 'oct-HSM', key_size: 256, attributes: { exportable: true }, release_policy: { data: b64u(JSON.stringify(policy)) } };
    await post(pool, '/keys/bench-model/create?api-version=7.5', JSON.stringify(key), token);
    const ca = await (await pool.request({ path: '/release-signer/ca', method: 'GET' })).body.text();
    const flow = (flows: Flow[]) => async (): Promise<void> => {
      const f = flows.pop();
      if (!f) throw new Error('ran out of prepared flows');
      const { token: target } = JSON.parse(await post(pool, ATTEST, f.evidence)) as { token: string };
      const released = JSON.parse(await post(pool, RELEASE, JSON.stringify({ target, enc: 'RSA_AES_KEY_WRAP_256' }), token)) as { value: string };
      if (flows.length % 97 === 0) await openReleaseResponse(released, { teePrivateKey: f.teePrivateKey, teePublicJwk: f.teeJwk, trustedRoots: [ca] }).then((o) => o.material.fill(0));
    };
    await countedLoop(flow(await makeFlows(pool, 60)), 8, 60);
    const estimate = (await countedLoop(flow(await makeFlows(pool, 100)), 8, 100)).rps;
    const n = Math.max(200, Math.ceil(estimate * 3));
    const peak = await countedLoop(flow(await makeFlows(pool, n)), 8, n);
    const target = peak.rps * 0.7;
    const latency = await openLoop(flow(await makeFlows(pool, Math.ceil(target * 2.2) + 8)), target, 2000);
    const raw = opsPerSecond(rawRelease(), 1500);
    console.log(
      `release end to end over HTTP (attest + release, fresh TEE key, evidence and nonce each time): ${peak.rps.toFixed(0)} releases/s; limit (raw node:crypto in one process: P-384 report verify + SHA-256 + HMAC + RS256-3072 token sign + verify + AES-GCM open + RSA-OAEP + AES-KWP + RS256-2048 JWS sign) ${raw.toFixed(0)}/s; ratio ${(peak.rps / raw).toFixed(3)}`,
    );
    console.log(`release latency at 70% of peak (${target.toFixed(0)} flows/s, open loop, n=${latency.n}): p50 ${latency.p50.toFixed(2)} ms, p99 ${latency.p99.toFixed(2)} ms`);
    return true;
  } finally {
    await pool.close();
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}
