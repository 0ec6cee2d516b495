import { describe, expect, it } from 'vitest';
import { loadCertificates } from '../../attestation/snp/certificate.js';
import { decodeTcb } from '../../attestation/snp/tcb.js';
import { verifySnpReport } from '../../attestation/snp/verify.js';
import { HAS_SHARED, snpVector } from '../helpers/shared.js';

interface ExpectedTcb { bootloader: number; tee: number; snp: number; microcode: number; fmc?: number; raw_le_hex: string }
interface ExpectedReport {
  verified_by: string; signing_key: 'VCEK' | 'VLEK'; product: 'Milan' | 'Genoa' | 'Turin'; version: number; guest_svn: number;
  policy: string; policy_bits: Record<string, number | boolean>; vmpl: number; platform_info: string; signer_info: string;
  cpuid: { family: number; model: number; stepping: number } | null; measurement: string; report_data: string; host_data: string;
  family_id: string; image_id: string; id_key_digest: string; author_key_digest: string; report_id: string; report_id_ma: string;
  chip_id: string; current_tcb: ExpectedTcb; reported_tcb: ExpectedTcb; committed_tcb: ExpectedTcb; launch_tcb: ExpectedTcb;
  current_version: string; committed_version: string; launch_mit_vector?: string; current_mit_vector?: string; reserved_fields_zero: boolean;
}

const expected: { reports: Record<string, ExpectedReport>; extra_certificates: Record<string, { chain_verified: boolean }> } =
  HAS_SHARED ? JSON.parse(snpVector('EXPECTED.json').toString('utf8')) : { reports: {}, extra_certificates: {} };
/** A time inside the leaf's validity window, so the suite does not age (VLEKs live about a year). */
const insideValidity = (certs: ReturnType<typeof loadCertificates>) => new Date(Math.max(...certs.map((c) => c.notBefore.getTime())) + 86_400_000);
const NOW = new Date('2026-06-01T00:00:00Z');

function certsFor(ref: string) {
  const [file, index] = ref.split('#');
  const certs = loadCertificates(snpVector(file!));
  return index === undefined ? certs : [certs[Number(index)]!];
}

const tcb = (t: ExpectedTcb) => ({ bootloader: t.bootloader, tee: t.tee, snp: t.snp, microcode: t.microcode, ...(t.fmc === undefined ? {} : { fmc: t.fmc }) });

describe.skipIf(!HAS_SHARED)('real AMD evidence from ../shared/vectors/snp (EXPECTED.json)', () => {
  it('covers all 16 reports', () => {
    expect(Object.keys(expected.reports)).toHaveLength(16);
  });

  for (const [path, exp] of Object.entries(expected.reports)) {
    it(`${path} verifies with ${exp.verified_by} and yields exactly the expected fields`, () => {
      const certificates = certsFor(exp.verified_by);
      const verdict = verifySnpReport(snpVector(path), { certificates, now: insideValidity(certificates) });
      expect(verdict.errors.map((e) => `${e.code}: ${e.message}`)).toEqual([]);
      expect(verdict.ok).toBe(true);
      expect(verdict.simulated).toBe(false);
      expect(verdict.product).toBe(exp.product);
      expect(verdict.signer).toBe(exp.signing_key);
      const r = verdict.report!;
      expect(r.version).toBe(exp.version);
      expect(r.guestSvn).toBe(exp.guest_svn);
      expect(`0x${r.policy.toString(16)}`).toBe(exp.policy);
      const b = r.policyBits;
      expect({
        abi_minor: b.abiMinor, abi_major: b.abiMajor, smt: b.smt, reserved17_must_be_1: b.reserved17, migrate_ma: b.migrateMa,
        debug: b.debug, single_socket: b.singleSocket, cxl_allow: b.cxlAllow, mem_aes_256_xts: b.memAes256Xts, rapl_dis: b.raplDis,
        ciphertext_hiding: b.ciphertextHiding, page_swap_disable: b.pageSwapDisable,
      }).toEqual(exp.policy_bits);
      expect(r.vmpl).toBe(exp.vmpl);
      expect(`0x${r.platformInfo.toString(16)}`).toBe(exp.platform_info);
      expect(`0x${r.keyInfo.toString(16)}`).toBe(exp.signer_info);
      expect(r.cpuid).toEqual(exp.cpuid);
      for (const [field, key] of [
        ['measurement', 'measurement'], ['reportData', 'report_data'], ['hostData', 'host_data'], ['familyId', 'family_id'],
        ['imageId', 'image_id'], ['idKeyDigest', 'id_key_digest'], ['authorKeyDigest', 'author_key_digest'], ['reportId', 'report_id'],
        ['reportIdMa', 'report_id_ma'], ['chipId', 'chip_id'],
      ] as const) {
        expect((r[field] as Buffer).toString('hex'), field).toBe(exp[key]);
      }
      for (const [field, key] of [['currentTcbRaw', 'current_tcb'], ['reportedTcbRaw', 'reported_tcb'], ['committedTcbRaw', 'committed_tcb'], ['launchTcbRaw', 'launch_tcb']] as const) {
        expect(r[field].toString('hex'), key).toBe(exp[key].raw_le_hex);
        expect(decodeTcb(r[field], exp.product), key).toEqual(tcb(exp[key]));
      }
      const v = (x: { major: number; minor: number; build: number }) => `${x.major}.${x.minor}.${x.build}`;
      expect(v(r.currentVersion)).toBe(exp.current_version);
      expect(v(r.committedVersion)).toBe(exp.committed_version);
      if (exp.launch_mit_vector !== undefined) expect(`0x${r.launchMitVector!.toString(16)}`).toBe(exp.launch_mit_vector);
      if (exp.current_mit_vector !== undefined) expect(`0x${r.currentMitVector!.toString(16)}`).toBe(exp.current_mit_vector);
      expect(r.problems.length === 0).toBe(exp.reserved_fields_zero);

      const c = verdict.claims!;
      expect(c['x-ms-sevsnpvm-launchmeasurement']).toBe(exp.measurement);
      expect(c['x-ms-sevsnpvm-reportdata']).toBe(exp.report_data);
      expect(c['x-ms-sevsnpvm-hostdata']).toBe(exp.host_data);
      expect(c['x-ms-sevsnpvm-is-debuggable']).toBe(exp.policy_bits.debug);
      expect(c['x-ms-sevsnpvm-migration-allowed']).toBe(exp.policy_bits.migrate_ma);
      expect(c['x-ms-sevsnpvm-smt-allowed']).toBe(exp.policy_bits.smt);
      expect(c['x-ms-sevsnpvm-vmpl']).toBe(exp.vmpl);
      expect(c['x-ms-sevsnpvm-guestsvn']).toBe(exp.guest_svn);
      expect(c['x-ms-sevsnpvm-bootloader-svn']).toBe(exp.reported_tcb.bootloader);
      expect(c['x-ms-sevsnpvm-tee-svn']).toBe(exp.reported_tcb.tee);
      expect(c['x-ms-sevsnpvm-snpfw-svn']).toBe(exp.reported_tcb.snp);
      expect(c['x-ms-sevsnpvm-microcode-svn']).toBe(exp.reported_tcb.microcode);
      expect(c['x-ms-sevsnpvm-familyId']).toBe(exp.family_id);
      expect(c['x-ms-sevsnpvm-imageId']).toBe(exp.image_id);
      expect(c['x-ms-sevsnpvm-idkeydigest']).toBe(exp.id_key_digest);
      expect(c['x-ms-sevsnpvm-authorkeydigest']).toBe(exp.author_key_digest);
      expect(c['x-ms-sevsnpvm-reportid']).toBe(exp.report_id);
      expect(c['x-zt4ai-product']).toBe(exp.product);
      expect(c['x-zt4ai-signer']).toBe(exp.signing_key);
      expect(c['x-zt4ai-chip-id']).toBe(exp.chip_id);
      expect(c['x-zt4ai-fw-version']).toBe(exp.current_version);
      expect(c['x-zt4ai-reported-tcb']).toEqual(tcb(exp.reported_tcb));
      expect(c['x-zt4ai-simulated']).toBe(false);
    });
  }

  it('the VLEK vector is rejected as expired after its one-year validity', () => {
    const verdict = verifySnpReport(snpVector('trustee/snp/test-vlek-report.bin'), { certificates: certsFor('trustee/snp/test-vlek.der'), now: NOW });
    expect(verdict.ok).toBe(false);
    expect(verdict.errors.map((e) => e.code)).toEqual(['ERR_CERT_EXPIRED']);
  });

  it('the deliberately broken VCEKs fail the chain check', () => {
    for (const [path, info] of Object.entries(expected.extra_certificates)) {
      const certs = loadCertificates(snpVector(path));
      const verdict = verifySnpReport(snpVector('trustee/snp/test-report.bin'), { certificates: certs, now: NOW });
      expect(verdict.ok, path).toBe(false);
      const codes = verdict.errors.map((e) => e.code);
      if (info.chain_verified) expect(codes, path).not.toContain('ERR_CERT_CHAIN');
      else expect(codes, path).toContain('ERR_CERT_CHAIN');
    }
  });
});
