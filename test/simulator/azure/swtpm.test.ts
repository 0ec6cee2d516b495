import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runtimeClaimsBound } from '../../../attestation/azure/binding.js';
import { parseHclReport } from '../../../attestation/azure/hcl.js';
import { parseRuntimeClaims } from '../../../attestation/azure/runtime-claims.js';
import { parseReport } from '../../../attestation/snp/report.js';
import { type SwtpmVtpm, SWTPM_INSTALL_HINT, missingSwtpmTools, startSwtpmVtpm } from '../../../simulator/azure/index.js';
import { SimulatedFirmware, createSimulatedRoots } from '../../../simulator/index.js';

const missing = missingSwtpmTools();
const why = missing.length > 0 ? ` (SKIPPED: ${missing.join(', ')} not on PATH; ${SWTPM_INSTALL_HINT})` : '';

describe.skipIf(missing.length > 0)(`the swtpm-backed Azure vTPM${why}`, () => {
  let vtpm: SwtpmVtpm;
  beforeAll(async () => {
    const roots = await createSimulatedRoots({ seed: 'swtpm tests' });
    vtpm = await startSwtpmVtpm({ firmware: new SimulatedFirmware({ root: roots.Milan }), userData: Buffer.from('user data at start') });
  });
  afterAll(async () => {
    await vtpm?.stop();
  });

  const tools = (args: string[]): Buffer => execFileSync(args[0]!, args.slice(1), { env: { ...process.env, TPM2TOOLS_TCTI: vtpm.tcti }, stdio: ['ignore', 'pipe', 'pipe'] });

  it('serves an HCL report in NV 0x01400001 to tpm2_nvread, binding runtime claims that carry the persisted AK', () => {
    expect(vtpm.tcti).toMatch(/^swtpm:host=127\.0\.0\.1,port=\d+$/);
    const nv = tools(['tpm2_nvread', '0x01400001', '-C', 'o']);
    expect(nv.equals(vtpm.hclReport)).toBe(true);
    const hcl = parseHclReport(nv);
    expect(runtimeClaimsBound(hcl)).toBe(true);
    expect(hcl.snpReport.subarray(0x50, 0x70)).toEqual(createHash('sha256').update(vtpm.runtimeClaims).digest());
    expect(parseReport(hcl.snpReport).vmpl).toBe(0);
    const claims = parseRuntimeClaims(hcl.runtimeClaims);
    expect(claims.ak.key.equals(vtpm.akPublicKey)).toBe(true);
    // The EK does not fit swtpm's 2048-byte NV index; the verifier treats it as optional.
    expect(claims.ek).toBeNull();
    expect(claims.userData?.subarray(0, 18).toString()).toBe('user data at start');
    expect(claims.vmConfiguration?.vmUniqueId).toBe(vtpm.vmConfiguration.vmUniqueId);
  });

  it('holds the AK at 0x81000003 as a restricted RSA-2048 signing key', () => {
    const pub = tools(['tpm2_readpublic', '-c', '0x81000003']).toString('utf8');
    expect(pub).toMatch(/restricted/);
    expect(pub).toMatch(/sign/);
    expect(pub).toMatch(/bits: 2048/);
    expect(vtpm.akPublicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
  });

  it('extends a SHA-256 PCR', async () => {
    const pcr23 = (): Buffer => {
      const file = join(vtpm.dir, 'pcr23.bin');
      tools(['tpm2_pcrread', 'sha256:23', '-o', file, '-F', 'values']);
      return readFileSync(file);
    };
    const before = pcr23();
    await vtpm.extendPcr(23, Buffer.from('measured'));
    const after = pcr23();
    const expected = createHash('sha256').update(before).update(createHash('sha256').update('measured').digest()).digest();
    expect(after).toEqual(expected);
  });

  it('stop() ends swtpm and removes its state directory', async () => {
    const roots = await createSimulatedRoots({ seed: 'swtpm tests' });
    const other = await startSwtpmVtpm({ firmware: new SimulatedFirmware({ root: roots.Genoa }) });
    expect(other.port).not.toBe(vtpm.port);
    expect(existsSync(other.dir)).toBe(true);
    await other.stop();
    await other.stop();
    expect(existsSync(other.dir)).toBe(false);
    expect(() => execFileSync('tpm2_nvread', ['0x01400001', '-C', 'o'], { env: { ...process.env, TPM2TOOLS_TCTI: other.tcti }, stdio: 'pipe' })).toThrow();
  });
});
