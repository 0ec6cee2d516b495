import { beforeAll, describe, expect, it } from 'vitest';
import { ZT4AI_CVM_COMPLIANCE } from '../../../attestation/azure/claims.js';
import { parsePcrValues } from '../../../attestation/azure/tpm-pcrs.js';
import { type HclVerdict, verifyHclEvidence } from '../../../attestation/azure/verify-hcl.js';
import { parseCertificate } from '../../../attestation/snp/certificate.js';
import { trustAnchorsFromPem } from '../../../attestation/snp/trust.js';
import { SimulatedFirmware, createSimulatedRoots, simulatedRootsPem } from '../../../simulator/index.js';
import { SimulatedVtpm } from '../../../simulator/azure/index.js';
import { HAS_SHARED, sharedFile } from '../../helpers/shared.js';

type Claims = Record<string, unknown>;

let verdict: HclVerdict;
beforeAll(async () => {
  const roots = await createSimulatedRoots({ seed: 'azure claim shape' });
  const fw = new SimulatedFirmware({ root: roots.Milan });
  const vtpm = await SimulatedVtpm.create({ firmware: fw });
  const nonce = Buffer.from('shape');
  const q = vtpm.quote(nonce, [0, 1, 2, 3, 4, 5, 6, 7, 11, 12, 13]);
  verdict = verifyHclEvidence(vtpm.hclReport(), {
    certificates: [parseCertificate(fw.endorsement.der)],
    trust: trustAnchorsFromPem(simulatedRootsPem(roots), { simulated: true }),
    tpm: { quote: q, nonce, pcrs: parsePcrValues(q.pcrsJson()) },
    runtimeData: { keys: [{ kid: 'TpmEphemeralEncryptionKey' }] },
  });
});

/** Claim names that only MAA's own checks (TCG log, policy, token issuance) can back: zt4ai does not make them. */
const MAA_ONLY = /^(?:exp|iat|iss|jti|nbf|secureboot|x-ms-policy-hash|x-ms-ver|x-ms-azurevm-(?!vmid$|attested-pcrs$).*)$/;

describe.skipIf(!HAS_SHARED)("claims use the names and shapes of MAA's confidential-VM token", () => {
  const sample = () => JSON.parse(sharedFile('vectors/azure/azureguest/sample_token_claims.json').toString('utf8')) as Claims;

  it('top level: every x-ms claim we make is in the sample, with the same JSON type', () => {
    const ours = verdict.claims as unknown as Claims;
    const theirs = sample();
    for (const [name, value] of Object.entries(ours).filter(([k]) => k.startsWith('x-ms-'))) {
      expect(theirs, name).toHaveProperty([name]);
      expect(typeOf(value), name).toBe(typeOf(theirs[name]));
    }
    const missing = Object.keys(theirs).filter((k) => !(k in ours) && !MAA_ONLY.test(k));
    expect(missing).toEqual([]);
  });

  it('x-ms-isolation-tee: exactly the sample claim set of the SNP TEE, plus zt4ai facts', () => {
    const ours = (verdict.claims as unknown as Claims)['x-ms-isolation-tee'] as Claims;
    const theirs = sample()['x-ms-isolation-tee'] as Claims;
    const oursMs = Object.keys(ours).filter((k) => k.startsWith('x-ms-')).sort();
    expect(oursMs).toEqual(Object.keys(theirs).sort());
    for (const name of oursMs) expect(typeOf(ours[name]), name).toBe(typeOf(theirs[name]));
    expect(Object.keys(ours).filter((k) => !k.startsWith('x-ms-') && !k.startsWith('x-zt4ai-'))).toEqual([]);
  });

  it('x-ms-isolation-tee.x-ms-runtime carries the HCL keys and vm-configuration as MAA does', () => {
    const runtime = ((verdict.claims as unknown as Claims)['x-ms-isolation-tee'] as Claims)['x-ms-runtime'] as Claims;
    const theirs = (sample()['x-ms-isolation-tee'] as Claims)['x-ms-runtime'] as Claims;
    for (const k of Object.keys(theirs)) expect(runtime).toHaveProperty([k]);
    expect((runtime.keys as Claims[]).map((k) => k.kid)).toEqual(['HCLAkPub', 'HCLEkPub']);
    expect(Object.keys((theirs.keys as Claims[])[0]!).sort()).toEqual(Object.keys((runtime.keys as Claims[])[0]!).sort());
  });
});

describe('claim values', () => {
  it('azurevm at the top, sevsnpvm under x-ms-isolation-tee, zt4ai compliance status (not azure-compliant-cvm)', () => {
    const c = verdict.claims!;
    expect(c['x-ms-attestation-type']).toBe('azurevm');
    expect(c['x-ms-isolation-tee']['x-ms-attestation-type']).toBe('sevsnpvm');
    expect(c['x-ms-isolation-tee']['x-ms-compliance-status']).toBe(ZT4AI_CVM_COMPLIANCE);
    expect(c['x-ms-azurevm-attested-pcrs']).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 11, 12, 13]);
    expect(c['x-ms-azurevm-vmid']).toBe((c['x-ms-isolation-tee']['x-ms-runtime']['vm-configuration'] as Claims).vmUniqueId);
    expect(c['x-ms-runtime']).toEqual({ keys: [{ kid: 'TpmEphemeralEncryptionKey' }] });
    expect(c).toMatchObject({ 'x-zt4ai-evidence': 'azure-hcl', 'x-zt4ai-simulated': true, 'x-zt4ai-runtime-claims-bound': true, 'x-zt4ai-tpm-quote-verified': true, 'x-zt4ai-tpm-nonce': Buffer.from('shape').toString('hex') });
    expect(c['x-zt4ai-hcl-ak-thumbprint']).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

function typeOf(v: unknown): string {
  return Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v;
}
