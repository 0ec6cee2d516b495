import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ParsedCertificate, loadCertificates, parseCertificate } from '../../attestation/snp/certificate.js';
import { OFF } from '../../attestation/snp/layout.js';
import { type TrustStore, trustAnchorsFromPem } from '../../attestation/snp/trust.js';
import { type VerifyOptions, verifySnpReport } from '../../attestation/snp/verify.js';
import { type SimulatedRoots, SimulatedFirmware, createSimulatedRoots, fixtureRootKeys, simulatedRootsPem } from '../../simulator/index.js';
import { makeCrl } from '../helpers/crl-fixtures.js';
import { resign } from '../helpers/resign.js';
import { HAS_SHARED, snpVector } from '../helpers/shared.js';

let roots: SimulatedRoots;
let trust: TrustStore;
beforeAll(async () => {
  roots = await createSimulatedRoots({ seed: 'binding tests' });
  trust = trustAnchorsFromPem(simulatedRootsPem(roots), { simulated: true });
});

const codes = (v: { errors: readonly { code: string }[] }) => v.errors.map((e) => e.code);

function evidence(o: ConstructorParameters<typeof SimulatedFirmware>[0]) {
  const fw = new SimulatedFirmware(o);
  const x = fw.getExtendedReport(Buffer.from('binding'));
  const certificates: ParsedCertificate[] = [x.endorsement, x.intermediate, x.ark].map(parseCertificate);
  return { fw, report: x.report, certificates, key: fw.endorsement.key.privateKey };
}

describe('binding checks catch validly signed but wrongly bound reports', () => {
  const verify = (report: Buffer, certificates: ParsedCertificate[], extra: Partial<VerifyOptions> = {}) => verifySnpReport(report, { certificates, trust, ...extra });

  it('baseline: the untouched simulated report verifies', () => {
    const e = evidence({ root: roots.Genoa });
    expect(codes(verify(e.report, e.certificates))).toEqual([]);
  });

  it('a correct signature under the wrong CHIP_ID fails the chip binding only', () => {
    for (const product of ['Milan', 'Turin'] as const) {
      const e = evidence({ root: roots[product] });
      const bad = resign(e.report, e.key, (r) => {
        r[OFF.chipId]! ^= 0xff;
      });
      expect(codes(verify(bad, e.certificates)), product).toEqual(['ERR_SNP_CHIP_ID_MISMATCH']);
    }
  });

  it('Turin: bytes 8..63 of CHIP_ID must be zero because the hwID is only 8 bytes', () => {
    const e = evidence({ root: roots.Turin });
    const bad = resign(e.report, e.key, (r) => {
      r[OFF.chipId + 20] = 1;
    });
    expect(codes(verify(bad, e.certificates))).toEqual(['ERR_SNP_CHIP_ID_MISMATCH']);
  });

  it('a VLEK presented as a VCEK (KEY_INFO says VCEK, VLEK chain) is refused', () => {
    const e = evidence({ root: roots.Milan, signer: 'VLEK' });
    const bad = resign(e.report, e.key, (r) => r.writeUInt32LE(0, OFF.keyInfo));
    expect(codes(verify(bad, e.certificates))).toEqual(['ERR_SNP_SIGNER_KIND_MISMATCH']);
  });

  it('a VCEK presented as a VLEK is refused', () => {
    const e = evidence({ root: roots.Milan, signer: 'VCEK' });
    const bad = resign(e.report, e.key, (r) => r.writeUInt32LE(1 << 2, OFF.keyInfo));
    expect(codes(verify(bad, e.certificates))).toEqual(['ERR_SNP_SIGNER_KIND_MISMATCH']);
  });

  it('REPORTED_TCB different from the certificate TCB', () => {
    const e = evidence({ root: roots.Genoa });
    const bad = resign(e.report, e.key, (r) => {
      r[OFF.reportedTcb]! -= 1; // bootloader SPL on Genoa
    });
    expect(codes(verify(bad, e.certificates))).toEqual(['ERR_SNP_TCB_MISMATCH']);
  });

  it('Turin: the FMC SPL is part of the binding', () => {
    const e = evidence({ root: roots.Turin });
    const bad = resign(e.report, e.key, (r) => {
      r[OFF.reportedTcb]! += 1; // FMC on Turin
      r[OFF.currentTcb]! += 1;
      r[OFF.committedTcb]! += 1;
    });
    expect(codes(verify(bad, e.certificates))).toEqual(['ERR_SNP_TCB_MISMATCH']);
  });

  it('REPORTED_TCB above CURRENT_TCB in one component', () => {
    const e = evidence({ root: roots.Milan });
    const bad = resign(e.report, e.key, (r) => {
      r[OFF.currentTcb + 6]! -= 1; // SNP SPL on Milan
      r[OFF.committedTcb + 6]! -= 1;
    });
    expect(codes(verify(bad, e.certificates))).toEqual(['ERR_SNP_TCB_ORDER']);
  });

  it('non-zero reserved bytes inside the signed region, with a valid signature', () => {
    for (const off of [0x04c, 0x18b, 0x1eb, 0x1ef, 0x250]) {
      const e = evidence({ root: roots.Genoa, version: 5 });
      const bad = resign(e.report, e.key, (r) => {
        r[off] = 1;
      });
      expect(codes(verify(bad, e.certificates)), `0x${off.toString(16)}`).toEqual(['ERR_SNP_RESERVED_NONZERO']);
    }
  });

  it('POLICY reserved bit 17 clear, or a bit above 25 set', () => {
    const e = evidence({ root: roots.Genoa });
    for (const policy of [0x10000n, 0x30000n | (1n << 40n)]) {
      const bad = resign(e.report, e.key, (r) => r.writeBigUInt64LE(policy, OFF.policy));
      expect(codes(verify(bad, e.certificates))).toEqual(['ERR_SNP_POLICY_RESERVED']);
    }
  });

  it('MASK_CHIP_KEY set: an unsigned report is refused', () => {
    const e = evidence({ root: roots.Genoa });
    const bad = Buffer.from(e.report);
    bad.writeUInt32LE(0b10, OFF.keyInfo);
    bad.fill(0, OFF.signatureR, OFF.signatureR + 144);
    expect(codes(verify(bad, e.certificates))).toEqual(['ERR_SNP_MASK_CHIP_KEY', 'ERR_SNP_SIGNATURE_INVALID']);
  });

  it('CPUID of another product than the chain', () => {
    const e = evidence({ root: roots.Genoa, version: 5 });
    const bad = resign(e.report, e.key, (r) => {
      r[OFF.cpuidModel] = 0x01; // Milan
    });
    expect(codes(verify(bad, e.certificates))).toEqual(['ERR_SNP_PRODUCT_MISMATCH']);
  });

  it('a masked CHIP_ID on a VCEK report is refused unless allowed, then warned about', () => {
    const e = evidence({ root: roots.Genoa, maskChipId: true });
    expect(codes(verify(e.report, e.certificates))).toEqual(['ERR_SNP_CHIP_ID_MASKED']);
    const allowed = verify(e.report, e.certificates, { allowMaskedChipId: true });
    expect(allowed.ok).toBe(true);
    expect(allowed.warnings.map((w) => w.code)).toContain('WARN_CHIP_ID_MASKED');
  });

  it('warnings: debug policy, provisional firmware, simulated root', () => {
    const e = evidence({ root: roots.Genoa, guest: { policy: 0xb0000n } });
    const v = verify(e.report, e.certificates);
    expect(v.ok).toBe(true);
    expect(v.claims!['x-ms-sevsnpvm-is-debuggable']).toBe(true);
    expect(v.warnings.map((w) => w.code)).toEqual(expect.arrayContaining(['WARN_SIMULATED', 'WARN_DEBUG_ALLOWED']));
    const p = evidence({ root: roots.Genoa, committedFirmwareVersion: { major: 1, minor: 55, build: 1 } });
    expect(verify(p.report, p.certificates).warnings.map((w) => w.code)).toContain('WARN_PROVISIONAL_FIRMWARE');
  });
});

describe('revocation through the product CRL', () => {
  const ark = () => fixtureRootKeys('Milan').ark;
  const crl = (o: { revoked?: string[]; thisUpdate?: Date; nextUpdate?: Date }) =>
    makeCrl({
      issuerCN: 'ARK-Milan',
      issuerName: AsnConvert.parse(roots.Milan.certificates.ark, Certificate).tbsCertificate.subject,
      signerKey: ark(),
      thisUpdate: o.thisUpdate ?? new Date(Date.now() - 3_600_000),
      nextUpdate: o.nextUpdate ?? new Date(Date.now() + 86_400_000),
      revokedSerialsHex: o.revoked ?? [],
    });

  it('a current CRL that lists nothing: ok; one listing the ASK: ERR_CERT_REVOKED', () => {
    const e = evidence({ root: roots.Milan });
    const askSerial = e.certificates[1]!.serialHex;
    expect(codes(verifySnpReport(e.report, { certificates: e.certificates, trust, crls: [crl({})], requireRevocationCheck: true }))).toEqual([]);
    expect(codes(verifySnpReport(e.report, { certificates: e.certificates, trust, crls: [crl({ revoked: [askSerial] })] }))).toEqual(['ERR_CERT_REVOKED']);
  });

  it('a stale CRL is refused, and a required check without a CRL fails closed', () => {
    const e = evidence({ root: roots.Milan });
    const stale = crl({ thisUpdate: new Date(Date.now() - 10 * 86_400_000), nextUpdate: new Date(Date.now() - 86_400_000) });
    expect(codes(verifySnpReport(e.report, { certificates: e.certificates, trust, crls: [stale], requireRevocationCheck: true }))).toEqual(['ERR_CRL_STALE', 'ERR_CRL_UNAVAILABLE']);
    expect(codes(verifySnpReport(e.report, { certificates: e.certificates, trust, requireRevocationCheck: true }))).toEqual(['ERR_CRL_UNAVAILABLE']);
  });
});

describe.skipIf(!HAS_SHARED)('pinned roots', () => {
  it('a real Turin VCEK supplied with a forged (simulated) ARK-Turin: the forged root is refused', () => {
    const certificates = [...loadCertificates(snpVector('oak/turin_oc_vcek.der')), parseCertificate(roots.Turin.certificates.ark)];
    const v = verifySnpReport(snpVector('oak/turin_oc_report.bin'), { certificates, now: new Date('2026-01-01T00:00:00Z') });
    expect(codes(v)).toEqual(['ERR_CERT_ROOT_UNTRUSTED']);
  });
});
