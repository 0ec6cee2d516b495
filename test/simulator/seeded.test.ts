import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCertificate } from '../../attestation/snp/certificate.js';
import { PRODUCTS } from '../../attestation/snp/product.js';
import { SimulatedFirmware, createSimulatedRoots, simulatedRootsPem, writeSimEvidence } from '../../simulator/index.js';

async function makeAll(seed: string) {
  const roots = await createSimulatedRoots({ seed });
  return PRODUCTS.map((product) => {
    const vcek = new SimulatedFirmware({ root: roots[product], tcb: { snp: 9 } }).getExtendedReport(Buffer.from('nonce'));
    const vlek = new SimulatedFirmware({ root: roots[product], signer: 'VLEK' }).getExtendedReport(Buffer.from('nonce'), 1);
    return { roots: simulatedRootsPem(roots), vcek, vlek };
  });
}

describe('seeded mode', () => {
  it('gives byte-identical reports, certificates and certificate tables across runs', async () => {
    const a = await makeAll('fixture-seed');
    const b = await makeAll('fixture-seed');
    expect(b).toEqual(a);
    for (const x of a) expect(x.vcek.report.equals(x.vlek.report)).toBe(false);
  });

  it('depends on the seed', async () => {
    const [a] = await makeAll('seed-a');
    const [b] = await makeAll('seed-b');
    expect(a!.vcek.report.equals(b!.vcek.report)).toBe(false);
    expect(a!.vcek.endorsement.equals(b!.vcek.endorsement)).toBe(false);
    // Same fixture RSA keys, but the PSS salt is HMAC(seed, tbs): the ARK signatures differ too.
    expect(a!.vcek.ark.equals(b!.vcek.ark)).toBe(false);
  });

  it('fixes certificate dates so output does not depend on the clock', async () => {
    const [a] = await makeAll('dates');
    expect(parseCertificate(a!.vcek.ark).notBefore.toISOString()).toBe('2024-01-01T00:00:00.000Z');
    expect(parseCertificate(a!.vcek.endorsement).notBefore.toISOString()).toBe('2024-12-31T00:00:00.000Z');
  });

  it('unseeded runs differ', async () => {
    const one = await createSimulatedRoots({ keyBits: 2048 });
    const fw = new SimulatedFirmware({ root: one.Milan });
    expect(fw.getReport().equals(fw.getReport())).toBe(false);
  });

  it('writeSimEvidence writes byte-identical files for the same seed', async () => {
    const dirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'zt4ai-sim-seeded-')));
    for (const dir of dirs) await writeSimEvidence(dir, { seed: 'bundle', product: 'Turin', signer: 'VLEK' });
    const files = readdirSync(dirs[0]!).sort();
    expect(files).toEqual(['certs.bin', 'chain.pem', 'evidence.json', 'report.bin', 'roots.pem', 'vlek.pem']);
    for (const f of files) expect(readFileSync(join(dirs[1]!, f)).equals(readFileSync(join(dirs[0]!, f))), f).toBe(true);
  });
});
