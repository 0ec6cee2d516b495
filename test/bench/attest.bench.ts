import { createHash, createHmac, generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { toPem } from '../../attestation/snp/certificate.js';
import { SIGNED_LENGTH } from '../../attestation/snp/layout.js';
import { parseReport } from '../../attestation/snp/report.js';
import { SimulatedFirmware, createSimulatedRoots } from '../../simulator/index.js';
import { opsPerSecond } from './harness.js';
import { startKrsChild } from './krs-child.js';
import { closedLoop, openLoop } from './load.js';

const ATTEST = '/attest/SevSnpVm?api-version=2022-08-01';
const b64u = (b: Uint8Array | string): string => Buffer.from(b).toString('base64url');

/** Fresh evidence for each request: a new challenge nonce, new runtime data, a newly signed report. */
async function makeRequests(pool: Pool, n: number): Promise<string[]> {
  const root = (await createSimulatedRoots({ seed: 'zt4ai' })).Genoa;
  const fw = new SimulatedFirmware({ root });
  const chain = toPem(fw.endorsement.der) + toPem(root.certificates.ask) + toPem(root.certificates.ark);
  const bodies: string[] = [];
  for (let i = 0; i < n; i++) {
    const challenge = await pool.request({ path: '/attest/challenge', method: 'POST' });
    const { nonce } = (await challenge.body.json()) as { nonce: string };
    const runtime = Buffer.from(JSON.stringify({ keys: [], nonce, 'x-bench': randomBytes(8).toString('hex') }));
    const report = fw.getReport(Buffer.concat([createHash('sha256').update(runtime).digest(), Buffer.alloc(32)]));
    const inner = JSON.stringify({ SnpReport: b64u(report), VcekCertChain: b64u(chain) });
    bodies.push(JSON.stringify({ report: b64u(inner), runtimeData: { data: b64u(runtime), dataType: 'JSON' } }));
  }
  return bodies;
}

/** The same cryptography in one process with raw node:crypto: report signature, bindings, nonce MAC, RS256 token. */
function rawAttestation(): () => void {
  const fwKey = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const report = randomBytes(1184);
  const sig = sign('sha384', report.subarray(0, SIGNED_LENGTH), { key: fwKey.privateKey, dsaEncoding: 'ieee-p1363' });
  const tokenKey = generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey;
  const runtime = randomBytes(200);
  const macKey = randomBytes(32);
  const claims = Buffer.alloc(2200, 'x');
  return () => {
    verify('sha384', report.subarray(0, SIGNED_LENGTH), { key: fwKey.publicKey, dsaEncoding: 'ieee-p1363' }, sig);
    createHash('sha256').update(runtime).digest();
    createHmac('sha256', macKey).update(runtime.subarray(0, 33)).digest();
    sign('sha256', claims, tokenKey);
  };
}

/**
 * Attestations per second end to end over HTTP on loopback (fresh evidence each request), the ratio to the
 * same work with raw node:crypto in one process, and p50/p99 latency at about 70% of that peak.
 */
export async function benchAttest(): Promise<boolean> {
  parseReport(Buffer.alloc(1184, 0).fill(2, 0, 1)); // warm the module graph outside the timed part
  const dir = mkdtempSync(join(tmpdir(), 'zt4ai-bench-krs-'));
  const { url, child } = await startKrsChild(dir);
  const pool = new Pool(url, { connections: 16, pipelining: 1 });
  try {
    const send = (bodies: string[]) => async (): Promise<boolean> => {
      const body = bodies.pop();
      if (!body) return false;
      const res = await pool.request({ path: ATTEST, method: 'POST', body, headers: { 'content-type': 'application/json' } });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`attest answered ${res.statusCode}: ${text.slice(0, 200)}`);
      return true;
    };
    const warm = await makeRequests(pool, 60);
    await closedLoop(send(warm), 8, 1500);
    const estimate = Math.max(50, (await closedLoop(send(await makeRequests(pool, 150)), 8, 600)).rps);
    const peakBodies = await makeRequests(pool, Math.ceil(estimate * 3.5));
    const peak = await closedLoop(send(peakBodies), 8, 2500);
    const target = peak.rps * 0.7;
    const latency = await openLoop(send(await makeRequests(pool, Math.ceil(target * 3.2))), target, 3000);
    const raw = opsPerSecond(rawAttestation(), 1500);
    const ratio = peak.rps / raw;
    console.log(`attest over HTTP (fresh evidence + nonce each request): ${peak.rps.toFixed(0)} attestations/s; limit (raw node:crypto: P-384 verify + SHA-256 + HMAC + RSA-3072 sign, one process) ${raw.toFixed(0)}/s; ratio ${ratio.toFixed(3)}`);
    console.log(`attest latency at 70% of peak (${target.toFixed(0)} req/s, open loop, n=${latency.n}): p50 ${latency.p50.toFixed(2)} ms, p99 ${latency.p99.toFixed(2)} ms`);
    return true;
  } finally {
    await pool.close();
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}
