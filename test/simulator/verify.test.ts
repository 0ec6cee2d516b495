import { beforeAll, describe, expect, it } from 'vitest';
import { parseCertificate } from '../../attestation/snp/certificate.js';
import { PRODUCTS } from '../../attestation/snp/product.js';
import { trustAnchorsFromPem } from '../../attestation/snp/trust.js';
import { verifySnpReport } from '../../attestation/snp/verify.js';
import { type SimulatedRoots, SimulatedFirmware, createSimulatedRoots, simulatedRootsPem } from '../../simulator/index.js';

let roots: SimulatedRoots;
beforeAll(async () => {
  roots = await createSimulatedRoots({ seed: 'verify tests' });
});

describe('simulated evidence through verifySnpReport', () => {
  for (const product of PRODUCTS) {
    for (const signer of ['VCEK', 'VLEK'] as const) {
      it(`${product} ${signer}: ok and simulated with the simulated anchors only; refused by the AMD trust store`, () => {
        const fw = new SimulatedFirmware({ root: roots[product], signer, version: 5 });
        const x = fw.getExtendedReport(Buffer.from('nonce'));
        const certificates = [x.endorsement, x.intermediate, x.ark].map(parseCertificate);
        const trust = trustAnchorsFromPem(simulatedRootsPem(roots), { simulated: true });
        const verdict = verifySnpReport(x.report, { certificates, trust });
        expect(verdict.errors).toEqual([]);
        expect(verdict).toMatchObject({ ok: true, simulated: true, product, signer });
        const real = verifySnpReport(x.report, { certificates });
        expect(real.ok).toBe(false);
        expect(real.simulated).toBe(false);
        expect(real.errors.map((e) => e.code)).toEqual(expect.arrayContaining(['ERR_CERT_ROOT_UNTRUSTED']));
      });
    }
  }

  it('a VCEK for another TCB or chip does not verify the report', () => {
    const fw = new SimulatedFirmware({ root: roots.Milan });
    const other = roots.Milan.vcek(fw.chipId, { ...fw.tcb.reported, snp: fw.tcb.reported.snp + 1 });
    const trust = trustAnchorsFromPem(roots.Milan.rootsPem(), { simulated: true });
    const verdict = verifySnpReport(fw.getReport(), { certificates: [parseCertificate(other.der)], trust });
    expect(verdict.ok).toBe(false);
    expect(verdict.errors.map((e) => e.code)).toEqual(expect.arrayContaining(['ERR_SNP_SIGNATURE_INVALID', 'ERR_SNP_TCB_MISMATCH']));
  });
});
