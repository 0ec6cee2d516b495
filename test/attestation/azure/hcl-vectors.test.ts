import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runtimeClaimsBound, runtimeClaimsDigest } from '../../../attestation/azure/binding.js';
import { parseHclReport } from '../../../attestation/azure/hcl.js';
import { parseRuntimeClaims } from '../../../attestation/azure/runtime-claims.js';
import { parsePcrValues } from '../../../attestation/azure/tpm-pcrs.js';
import { parseQuoteAttest } from '../../../attestation/azure/tpm-structures.js';
import { type HclVerifyOptions, verifyHclEvidence } from '../../../attestation/azure/verify-hcl.js';
import { loadCertificates } from '../../../attestation/snp/certificate.js';
import { SimulatedFirmware, createSimulatedRoots } from '../../../simulator/index.js';
import { SimulatedVtpm } from '../../../simulator/azure/index.js';
import { HAS_SHARED, SNP_VECTORS, snpVector } from '../../helpers/shared.js';

/** The three real Azure CVM HCL reports (PROVENANCE.md "trustee/az-snp-vtpm/") and the VCEK of each. */
const VECTORS = [
  { name: 'genoa-report-v3', cert: 'genoa-report-v3.vcek.pem', product: 'Genoa', version: 2 },
  { name: 'milan-report-v3', cert: 'milan-report-v3.vcek.der', product: 'Milan', version: 1 },
  { name: 'milan-report-v2', cert: 'milan-report-v2.vcek-chain.pem', product: 'Milan', version: 1 },
] as const;
const DIR = 'trustee/az-snp-vtpm/';
/** Inside every VCEK's validity (the earliest NotBefore is 2023-05-02, the latest NotAfter 2030-05-02). */
const NOW = new Date('2026-01-01T00:00:00Z');

/** Trustee's real vTPM quote for milan-report-v3 (fixtures/trustee-milan-v3-quote.json, with provenance). */
const REAL_QUOTE = JSON.parse(readFileSync(resolve(import.meta.dirname, 'fixtures/trustee-milan-v3-quote.json'), 'utf8')) as { message: string; signature: string; pcrs: string[] };
const REAL_NONCE = Buffer.from('982f5c6e45df0ed3f10b6f60b02f0c8390e281300f3805e2279c16168cd6ae9aa398f647caa2338748cd0fd9f5f819ef', 'hex');

const codes = (v: { errors: readonly { code: string }[] }) => v.errors.map((e) => e.code);

describe.skipIf(!HAS_SHARED)('real Azure HCL reports', () => {
  const expected = HAS_SHARED ? (JSON.parse(readFileSync(resolve(SNP_VECTORS, 'EXPECTED.json'), 'utf8')) as { bindings: Record<string, Record<string, unknown>> }).bindings : {};
  const options = (cert: string): HclVerifyOptions => ({ certificates: loadCertificates(snpVector(DIR + cert)), now: NOW });

  for (const vec of VECTORS) {
    describe(vec.name, () => {
      const bytes = () => snpVector(`${DIR}${vec.name}.hcl-report.bin`);

      it('parses as EXPECTED.json bindings say: SNP report at 0x20, SHA-256, runtime-claims size and keys', () => {
        const hcl = parseHclReport(bytes());
        const b = expected[`${DIR}${vec.name}.hcl-report.bin`]!;
        expect(b).toMatchObject({ header_magic: 'HCLA', snp_report_offset: '0x20', igvm_request_data_offset: '0x4c0', report_type: 2, hash_type: 1 });
        expect(hcl.reportType).toBe('snp');
        expect(hcl.hashType).toBe('sha256');
        expect(hcl.version).toBe(vec.version);
        expect(hcl.runtimeClaims.length).toBe(b.runtime_claims_size);
        expect(hcl.snpReport.equals(snpVector(`${DIR}${vec.name}.snp-report.bin`))).toBe(true);
        expect(Object.keys(JSON.parse(hcl.runtimeClaims.toString('utf8')) as object)).toEqual(b.runtime_claims_keys);
      });

      it('REPORT_DATA binds the runtime claims: [0..32] = SHA-256(claims as embedded), [32..64] zero', () => {
        const hcl = parseHclReport(bytes());
        expect(runtimeClaimsBound(hcl)).toBe(expected[`${DIR}${vec.name}.hcl-report.bin`]!.report_data_first32_equals_sha256_runtime_claims);
        expect(runtimeClaimsDigest(hcl).equals(createHash('sha256').update(hcl.runtimeClaims).digest())).toBe(true);
      });

      it('HCLAkPub (RSA-2048, key_ops sign) and HCLEkPub (key_ops encrypt) are extracted', () => {
        const rc = parseRuntimeClaims(parseHclReport(bytes()).runtimeClaims);
        expect(rc.ak.key.asymmetricKeyType).toBe('rsa');
        expect(rc.ak.key.asymmetricKeyDetails?.modulusLength).toBe(2048);
        expect(rc.ak.keyOps).toEqual(['sign']);
        expect(rc.ek?.keyOps).toEqual(['encrypt']);
        expect(rc.vmConfiguration).toMatchObject({ secureBoot: true, tpmEnabled: true, consoleEnabled: true });
        expect(rc.vmConfiguration?.vmUniqueId).toMatch(/^[0-9A-F-]{36}$/);
        expect(rc.userData?.length).toBe(64);
      });

      it(`verifies end to end with its VCEK: ${vec.product}, VMPL 0, claims bound, MAA-shaped claims`, () => {
        const v = verifyHclEvidence(bytes(), options(vec.cert));
        expect(codes(v)).toEqual([]);
        expect(v).toMatchObject({ ok: true, runtimeClaimsBound: true, quote: null });
        expect(v.snp?.product).toBe(vec.product);
        const tee = v.claims!['x-ms-isolation-tee'];
        expect(tee['x-ms-attestation-type']).toBe('sevsnpvm');
        expect(tee['x-ms-sevsnpvm-vmpl']).toBe(0);
        expect(tee['x-ms-runtime']).toEqual(JSON.parse(parseHclReport(bytes()).runtimeClaims.toString('utf8')));
        expect(v.claims!['x-zt4ai-simulated']).toBe(false);
        expect(v.warnings.map((w) => w.code)).toContain('WARN_HCL_NOT_FRESH');
      });

      it('outside the VCEK validity, or with no certificate trusted, it is refused', () => {
        expect(codes(verifyHclEvidence(bytes(), { ...options(vec.cert), now: new Date('2040-01-01T00:00:00Z') }))).toContain('ERR_CERT_EXPIRED');
        expect(verifyHclEvidence(bytes(), { now: NOW, product: vec.product }).ok).toBe(false);
      });
    });
  }

  describe("trustee's real vTPM quote over milan-report-v3", () => {
    const hcl = () => snpVector(`${DIR}milan-report-v3.hcl-report.bin`);
    const quote = { message: Buffer.from(REAL_QUOTE.message, 'hex'), signature: Buffer.from(REAL_QUOTE.signature, 'hex') };
    const pcrs = parsePcrValues(REAL_QUOTE.pcrs);
    const verify = (tpm: Partial<NonNullable<HclVerifyOptions['tpm']>> = {}) => verifyHclEvidence(hcl(), { ...options('milan-report-v3.vcek.der'), tpm: { quote, nonce: REAL_NONCE, pcrs, ...tpm } });

    it('is a TPMS_ATTEST quote over all 24 SHA-256 PCRs whose nonce is the start of user-data', () => {
      const attest = parseQuoteAttest(quote.message);
      expect(attest.extraData.equals(REAL_NONCE)).toBe(true);
      expect(attest.pcrSelection).toEqual([{ hash: 'sha256', sizeofSelect: 3, pcrs: Array.from({ length: 24 }, (_, i) => i) }]);
      const userData = parseRuntimeClaims(parseHclReport(hcl()).runtimeClaims).userData!;
      expect(userData.subarray(0, 48).equals(REAL_NONCE)).toBe(true);
    });

    it('verifies with the AK from the verified runtime claims: signature, nonce, PCR digest', () => {
      const v = verify();
      expect(codes(v)).toEqual([]);
      expect(v.ok).toBe(true);
      expect(v.claims!['x-zt4ai-tpm-quote-verified']).toBe(true);
      expect(v.claims!['x-ms-azurevm-attested-pcrs']).toEqual(Array.from({ length: 24 }, (_, i) => i));
      expect(v.claims!['x-zt4ai-tpm-pcrs']?.sha256?.['0']).toBe(REAL_QUOTE.pcrs[0]);
      expect(v.warnings.map((w) => w.code)).not.toContain('WARN_HCL_NOT_FRESH');
      expect(verifyHclEvidence(hcl(), { ...options('milan-report-v3.vcek.der'), expectedUserData: REAL_NONCE }).ok).toBe(true);
    });

    it('each tampering is refused with its own code', () => {
      const flipped = Buffer.from(quote.signature);
      flipped[100]! ^= 1;
      expect(codes(verify({ quote: { ...quote, signature: flipped } }))).toEqual(['ERR_TPM_QUOTE_SIGNATURE']);
      expect(codes(verify({ nonce: Buffer.from('challenge') }))).toEqual(['ERR_TPM_QUOTE_NONCE']);
      const changed = [...REAL_QUOTE.pcrs];
      changed[7] = '00'.repeat(32);
      expect(codes(verify({ pcrs: parsePcrValues(changed) }))).toEqual(['ERR_TPM_PCR_DIGEST']);
      expect(codes(verify({ pcrs: parsePcrValues(REAL_QUOTE.pcrs.slice(0, 23)) }))).toEqual(['ERR_TPM_PCR_MISSING']);
      const edited = Buffer.from(quote.message);
      edited[edited.length - 1]! ^= 1;
      expect(codes(verify({ quote: { ...quote, message: edited } }))).toEqual(['ERR_TPM_QUOTE_SIGNATURE', 'ERR_TPM_PCR_DIGEST']);
      expect(codes(verifyHclEvidence(hcl(), { ...options('milan-report-v3.vcek.der'), expectedUserData: Buffer.from('other') }))).toEqual(['ERR_HCL_USER_DATA']);
    });

    it('the quote does not verify against another real HCL report: its AK did not sign it', () => {
      const other = verifyHclEvidence(snpVector(`${DIR}genoa-report-v3.hcl-report.bin`), { ...options('genoa-report-v3.vcek.pem'), tpm: { quote, nonce: REAL_NONCE, pcrs } });
      expect(codes(other)).toEqual(['ERR_TPM_QUOTE_SIGNATURE']);
    });
  });

  describe('a real HCL report with a simulated quote', () => {
    let vtpm: SimulatedVtpm;
    beforeAll(async () => {
      const roots = await createSimulatedRoots({ seed: 'azure real+sim' });
      vtpm = await SimulatedVtpm.create({ firmware: new SimulatedFirmware({ root: roots.Milan }) });
    });

    it('fails with ERR_TPM_QUOTE_SIGNATURE: the simulated AK is not the real HCLAkPub', () => {
      const nonce = Buffer.from('fresh challenge');
      const q = vtpm.quote(nonce, [0, 1, 2, 3, 4, 5, 6, 7]);
      for (const vec of VECTORS) {
        const v = verifyHclEvidence(snpVector(`${DIR}${vec.name}.hcl-report.bin`), { ...options(vec.cert), tpm: { quote: q, nonce, pcrs: parsePcrValues(q.pcrsJson()) } });
        expect(codes(v)).toEqual(['ERR_TPM_QUOTE_SIGNATURE']);
        expect(v.ok).toBe(false);
        expect(v.claims).toBeNull();
        expect(v.runtimeClaimsBound).toBe(true);
      }
    });
  });
});
