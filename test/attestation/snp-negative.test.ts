import { describe, expect, it } from 'vitest';
import { ATTESTATION_ERROR_CODES } from '../../attestation/errors.js';
import { loadCertificates } from '../../attestation/snp/certificate.js';
import { REPORT_SIZE, SIGNED_LENGTH } from '../../attestation/snp/layout.js';
import { verifySnpReport } from '../../attestation/snp/verify.js';
import { HAS_SHARED, snpVector } from '../helpers/shared.js';

const NOW = new Date('2026-06-01T00:00:00Z');

describe.skipIf(!HAS_SHARED)('rejections on real AMD reports', () => {
  const turin = () => snpVector('oak/turin_oc_report.bin');
  const turinVcek = () => loadCertificates(snpVector('oak/turin_oc_vcek.der'));
  const milan = () => snpVector('ms-tee-attestation-verification/milan_attestation_report.bin');
  const milanVcek = () => loadCertificates(snpVector('ms-tee-attestation-verification/milan_vcek.pem'));
  const codes = (v: { errors: readonly { code: string }[] }) => v.errors.map((e) => e.code);

  for (const [name, report, certs] of [['Turin v5', turin, turinVcek], ['Milan v3', milan, milanVcek]] as const) {
    it(`${name}: every single-byte flip anywhere in the report is rejected with typed codes`, () => {
      const base = report();
      const certificates = certs();
      expect(verifySnpReport(base, { certificates, now: NOW }).ok).toBe(true);
      for (let off = 0; off < REPORT_SIZE; off++) {
        const bad = Buffer.from(base);
        bad[off]! ^= 0x01;
        const v = verifySnpReport(bad, { certificates, now: NOW });
        expect(v.ok, `offset 0x${off.toString(16)}`).toBe(false);
        for (const c of codes(v)) expect(Object.keys(ATTESTATION_ERROR_CODES)).toContain(c);
        // A flip inside the signed region must break the signature (unless the report no longer parses at all).
        if (off < SIGNED_LENGTH && off >= 4) expect(codes(v), `offset 0x${off.toString(16)}`).toContain('ERR_SNP_SIGNATURE_INVALID');
      }
    });
  }

  it('the wrong VCEK (another chip, another TCB) fails signature, TCB and chip binding', () => {
    const v = verifySnpReport(milan(), { certificates: loadCertificates(snpVector('oak/milan_oc_release_vcek.der')), now: NOW });
    expect(v.ok).toBe(false);
    expect(codes(v)).toEqual(expect.arrayContaining(['ERR_SNP_SIGNATURE_INVALID', 'ERR_SNP_CHIP_ID_MISMATCH']));
  });

  it("a VCEK of another product's chain is a product mismatch", () => {
    const v = verifySnpReport(turin(), { certificates: milanVcek(), now: NOW });
    expect(codes(v)).toEqual(expect.arrayContaining(['ERR_SNP_PRODUCT_MISMATCH', 'ERR_SNP_SIGNATURE_INVALID']));
  });

  it('truncated and oversized input', () => {
    expect(codes(verifySnpReport(turin().subarray(0, REPORT_SIZE - 1), { certificates: turinVcek(), now: NOW }))).toEqual(['ERR_SNP_REPORT_TRUNCATED']);
    expect(codes(verifySnpReport(Buffer.alloc(0)))).toEqual(['ERR_SNP_REPORT_TRUNCATED']);
    expect(codes(verifySnpReport(Buffer.concat([turin(), Buffer.alloc(1)]), { certificates: turinVcek(), now: NOW }))).toEqual(['ERR_SNP_REPORT_OVERSIZED']);
  });

  it('unknown versions 0 and 6', () => {
    for (const version of [0, 6, 0xffffffff]) {
      const bad = turin();
      bad.writeUInt32LE(version, 0);
      expect(codes(verifySnpReport(bad, { certificates: turinVcek(), now: NOW }))).toEqual(['ERR_SNP_REPORT_VERSION']);
    }
  });

  it('non-zero reserved bytes outside the signed region are still caught', () => {
    const bad = turin();
    bad[0x400] = 1;
    expect(codes(verifySnpReport(bad, { certificates: turinVcek(), now: NOW }))).toEqual(['ERR_SNP_RESERVED_NONZERO']);
  });

  it('non-zero high bytes of the signature R field', () => {
    const bad = turin();
    bad[0x2a0 + 60] = 1;
    expect(codes(verifySnpReport(bad, { certificates: turinVcek(), now: NOW }))).toEqual(['ERR_SNP_SIGNATURE_ENCODING']);
  });

  it('expired and not-yet-valid certificates', () => {
    expect(codes(verifySnpReport(turin(), { certificates: turinVcek(), now: new Date('2033-01-01T00:00:00Z') }))).toEqual(['ERR_CERT_EXPIRED']);
    expect(codes(verifySnpReport(turin(), { certificates: turinVcek(), now: new Date('2024-01-01T00:00:00Z') }))).toEqual(['ERR_CERT_NOT_YET_VALID']);
  });

  it('no certificate at all', () => {
    const v = verifySnpReport(turin(), { now: NOW });
    expect(codes(v)).toEqual(['ERR_CERT_MISSING']);
  });

  it('a v2 report without certificate or product hint cannot be settled', () => {
    const v = verifySnpReport(snpVector('go-sev-guest/attestation.bin'), { now: NOW });
    expect(codes(v)).toEqual(['ERR_CERT_MISSING', 'ERR_SNP_PRODUCT_UNDETERMINED']);
  });

  it('a VLEK chain is never accepted as a VCEK chain and vice versa', () => {
    const vlekReport = snpVector('trustee/snp/test-vlek-report.bin');
    const vlek = loadCertificates(snpVector('trustee/snp/test-vlek.der'));
    const vlekNow = new Date(vlek[0]!.notBefore.getTime() + 86_400_000);
    expect(verifySnpReport(vlekReport, { certificates: vlek, now: vlekNow }).ok).toBe(true);
    // The VLEK report verified against a VCEK: the key kind from KEY_INFO disagrees and the signature fails.
    const v = verifySnpReport(vlekReport, { certificates: milanVcek(), now: vlekNow });
    expect(codes(v)).toEqual(expect.arrayContaining(['ERR_SNP_SIGNER_KIND_MISMATCH', 'ERR_SNP_SIGNATURE_INVALID']));
  });
});
