import { verify } from 'node:crypto';
import { type ParsedCertificate, loadCertificates, parseCertificate } from '../../attestation/snp/certificate.js';
import { SIGNED_LENGTH } from '../../attestation/snp/layout.js';
import { parseReport } from '../../attestation/snp/report.js';
import { type TrustStore, amdTrustStore, trustAnchorsFromPem } from '../../attestation/snp/trust.js';
import { verifySnpReport } from '../../attestation/snp/verify.js';
import { SimulatedFirmware, createSimulatedRoots, simulatedRootsPem } from '../../simulator/index.js';
import { HAS_SHARED, snpVector } from '../helpers/shared.js';
import { ratio, report } from './harness.js';

interface BenchInput {
  readonly name: string;
  readonly bytes: Buffer;
  readonly certificates: ParsedCertificate[];
  readonly trust: TrustStore;
}

/** A real Turin report when ../shared is present, else seeded simulated Turin evidence (same code path). */
async function input(): Promise<BenchInput> {
  if (HAS_SHARED) {
    return { name: 'real Turin report', bytes: snpVector('oak/turin_oc_report.bin'), certificates: loadCertificates(snpVector('oak/turin_oc_vcek.der')), trust: amdTrustStore() };
  }
  const roots = await createSimulatedRoots({ seed: 'bench' });
  const x = new SimulatedFirmware({ root: roots.Turin }).getExtendedReport();
  const trust = trustAnchorsFromPem(simulatedRootsPem(roots), { simulated: true });
  return { name: 'simulated Turin report', bytes: x.report, certificates: [x.endorsement, x.intermediate, x.ark].map(parseCertificate), trust };
}

/**
 * Verified reports per second with the chain cached (the KRS's steady state: the same VCEK for many
 * requests) against raw node:crypto P-384 verifications per second of the same signature.
 */
export async function benchSnpVerify(): Promise<boolean> {
  const { name, bytes, certificates, trust } = await input();
  const now = new Date(certificates[0]!.notBefore.getTime() + 86_400_000);
  const parsed = parseReport(bytes);
  const key = certificates[0]!.x509.publicKey;
  const sig = Buffer.concat([parsed.signatureR, parsed.signatureS]);
  const signed = bytes.subarray(0, SIGNED_LENGTH);
  if (!verifySnpReport(bytes, { certificates, trust, now }).ok) throw new Error('bench input does not verify');
  const m = ratio(
    () => {
      if (!verifySnpReport(bytes, { certificates, trust, now }).ok) throw new Error('verify failed');
    },
    () => {
      if (!verify('sha384', signed, { key, dsaEncoding: 'ieee-p1363' }, sig)) throw new Error('raw verify failed');
    },
  );
  return report(`snp verify, ${name} (chain cached)`, m, 0.9, 'reports/s', 'node:crypto ECDSA P-384 verify');
}
