import { type KeyObject, createHash, verify } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeKeyInfo, decodePolicy } from '../../attestation/snp/fields.js';
import { OFF, REPORT_SIZE, SIGNED_LENGTH, reservedRanges } from '../../attestation/snp/layout.js';
import { PRODUCTS, type Product } from '../../attestation/snp/product.js';
import { parseReport } from '../../attestation/snp/report.js';
import { decodeTcb } from '../../attestation/snp/tcb.js';
import { type SimulatedRoots, SimulatedFirmware, createSimulatedRoots } from '../../simulator/index.js';

/** Verifies the way snp-evidence.md §7 says: reverse each 72-byte LE field, keep the low 48 bytes, r||s. */
function signatureVerifies(report: Buffer, key: KeyObject): boolean {
  const be = (off: number): Buffer => Buffer.from(report.subarray(off, off + 72)).reverse().subarray(24);
  return verify('sha384', report.subarray(0, 0x2a0), { key, dsaEncoding: 'ieee-p1363' }, Buffer.concat([be(0x2a0), be(0x2e8)]));
}

let roots: SimulatedRoots;
beforeAll(async () => {
  roots = await createSimulatedRoots({ seed: 'report tests' });
});

describe('SimulatedFirmware reports', () => {
  for (const product of PRODUCTS) {
    for (const version of [1, 2, 3, 4, 5]) {
      for (const signer of ['VCEK', 'VLEK'] as const) {
        it(`${product} v${version} ${signer}: parses with no problems and the signature verifies`, () => {
          const fw = new SimulatedFirmware({ root: roots[product], version, signer });
          const report = fw.getReport(Buffer.from('nonce'));
          expect(report.length).toBe(REPORT_SIZE);
          const parsed = parseReport(report);
          expect(parsed.problems).toEqual([]);
          expect(parsed.version).toBe(version);
          expect(parsed.keyInfoBits.signingKey).toBe(signer);
          expect(parsed.cpuidProduct).toBe(version >= 3 ? product : null);
          expect(signatureVerifies(report, fw.endorsement.key.publicKey)).toBe(true);
        });
      }
    }
  }

  it('puts every field where parseReport reads it', () => {
    const bytes = (n: number, fill: number): Buffer => Buffer.alloc(n, fill);
    const fw = new SimulatedFirmware({
      root: roots.Genoa,
      version: 5,
      tcb: { bootloader: 11, tee: 1, snp: 26, microcode: 0x99 },
      reportedTcb: { bootloader: 10, tee: 0, snp: 25, microcode: 84 },
      committedTcb: { bootloader: 10, tee: 1, snp: 25, microcode: 90 },
      launchTcb: { bootloader: 10, tee: 0, snp: 25, microcode: 88 },
      firmwareVersion: { major: 1, minor: 55, build: 50 },
      committedFirmwareVersion: { major: 1, minor: 55, build: 43 },
      platformInfo: { smtEnabled: true, tsmeEnabled: true, aliasCheckComplete: true },
      cpuid: { family: 0x19, model: 0xa0, stepping: 2 },
      launchMitVector: 0x3n,
      currentMitVector: 0x7n,
      guest: {
        policy: { smt: true, abiMajor: 1, abiMinor: 31, singleSocket: true },
        measurement: bytes(48, 0x11),
        hostData: bytes(32, 0x22),
        familyId: bytes(16, 0x33),
        imageId: bytes(16, 0x44),
        guestSvn: 7,
        idKeyDigest: bytes(48, 0x55),
        authorKeyDigest: bytes(48, 0x66),
        reportId: bytes(32, 0x77),
      },
    });
    const r = parseReport(fw.getReport(bytes(64, 0x88), 2));
    expect(r.problems).toEqual([]);
    expect(r.guestSvn).toBe(7);
    expect(r.policyBits).toMatchObject({ smt: true, reserved17: true, abiMajor: 1, abiMinor: 31, singleSocket: true, debug: false });
    expect(r.vmpl).toBe(2);
    expect(r.signatureAlgo).toBe(1);
    expect(r.platformInfo).toBe(0x23n);
    expect(r.keyInfoBits).toMatchObject({ authorKeyEn: true, signingKey: 'VCEK', maskChipKey: false });
    expect(r.reportData).toEqual(bytes(64, 0x88));
    expect(r.measurement).toEqual(bytes(48, 0x11));
    expect(r.hostData).toEqual(bytes(32, 0x22));
    expect(r.familyId).toEqual(bytes(16, 0x33));
    expect(r.imageId).toEqual(bytes(16, 0x44));
    expect(r.idKeyDigest).toEqual(bytes(48, 0x55));
    expect(r.authorKeyDigest).toEqual(bytes(48, 0x66));
    expect(r.reportId).toEqual(bytes(32, 0x77));
    expect(r.reportIdMa).toEqual(bytes(32, 0xff));
    expect(r.cpuid).toEqual({ family: 0x19, model: 0xa0, stepping: 2 });
    expect(r.chipId).toEqual(fw.chipId);
    expect(decodeTcb(r.currentTcbRaw, 'Genoa')).toEqual({ bootloader: 11, tee: 1, snp: 26, microcode: 0x99 });
    expect(decodeTcb(r.reportedTcbRaw, 'Genoa')).toEqual({ bootloader: 10, tee: 0, snp: 25, microcode: 84 });
    expect(decodeTcb(r.committedTcbRaw, 'Genoa')).toEqual({ bootloader: 10, tee: 1, snp: 25, microcode: 90 });
    expect(decodeTcb(r.launchTcbRaw, 'Genoa')).toEqual({ bootloader: 10, tee: 0, snp: 25, microcode: 88 });
    expect(r.currentVersion).toEqual({ major: 1, minor: 55, build: 50 });
    expect(r.committedVersion).toEqual({ major: 1, minor: 55, build: 43 });
    expect(r.launchMitVector).toBe(0x3n);
    expect(r.currentMitVector).toBe(0x7n);
  });

  it('uses the Turin TCB layout on Turin (FMC@0 BL@1 TEE@2 SNP@3 UCODE@7)', () => {
    const tcb = { fmc: 3, bootloader: 4, tee: 5, snp: 6, microcode: 0x47 };
    const fw = new SimulatedFirmware({ root: roots.Turin, tcb });
    const report = fw.getReport();
    for (const off of [OFF.currentTcb, OFF.reportedTcb, OFF.committedTcb, OFF.launchTcb]) {
      expect(report.subarray(off, off + 8).toString('hex')).toBe('0304050600000047');
    }
    expect(decodeTcb(parseReport(report).reportedTcbRaw, 'Turin')).toEqual(tcb);
  });

  it('uses the legacy TCB layout on Milan (BL@0 TEE@1 SNP@6 UCODE@7)', () => {
    const fw = new SimulatedFirmware({ root: roots.Milan, tcb: { bootloader: 3, tee: 0, snp: 8, microcode: 0x73 } });
    expect(fw.getReport().subarray(OFF.reportedTcb, OFF.reportedTcb + 8).toString('hex')).toBe('0300000000000873');
  });

  it('writes the default CPUID of each product into v3+ reports and none into v2', () => {
    const expected: Record<Product, [number, number, number]> = { Milan: [0x19, 0x01, 1], Genoa: [0x19, 0x11, 1], Turin: [0x1a, 0x02, 1] };
    for (const product of PRODUCTS) {
      const v3 = new SimulatedFirmware({ root: roots[product], version: 3 }).getReport();
      expect([...v3.subarray(OFF.cpuidFamily, OFF.cpuidFamily + 3)]).toEqual(expected[product]);
      const v2 = new SimulatedFirmware({ root: roots[product], version: 2 }).getReport();
      expect([...v2.subarray(0x188, 0x1a0)].every((b) => b === 0)).toBe(true);
    }
  });

  it('keeps every reserved range zero, and the mitigation vectors out of pre-v5 reports', () => {
    for (const version of [2, 3, 4, 5]) {
      const report = new SimulatedFirmware({ root: roots.Milan, version, launchMitVector: 1n, currentMitVector: 1n }).getReport();
      for (const [start, end] of reservedRanges(version)) expect(report.subarray(start, end).every((b) => b === 0)).toBe(true);
      expect(report.readBigUInt64LE(OFF.launchMitVector)).toBe(version >= 5 ? 1n : 0n);
    }
  });

  it('writes a Turin CHIP_ID as 8 bytes then zeros, and Milan/Genoa as 64 bytes', () => {
    const turin = new SimulatedFirmware({ root: roots.Turin }).getReport();
    expect(turin.subarray(OFF.chipId, OFF.chipId + 8).some((b) => b !== 0)).toBe(true);
    expect(turin.subarray(OFF.chipId + 8, OFF.chipId + 64).every((b) => b === 0)).toBe(true);
    const milan = new SimulatedFirmware({ root: roots.Milan }).getReport();
    expect(milan.subarray(OFF.chipId + 56, OFF.chipId + 64).some((b) => b !== 0)).toBe(true);
  });

  it('masks CHIP_ID for VLEK-signed reports unless told otherwise, and on request for VCEK', () => {
    const chipIdOf = (report: Buffer): Buffer => report.subarray(OFF.chipId, OFF.chipId + 64);
    const zero = Buffer.alloc(64);
    expect(chipIdOf(new SimulatedFirmware({ root: roots.Milan, signer: 'VLEK' }).getReport())).toEqual(zero);
    expect(chipIdOf(new SimulatedFirmware({ root: roots.Milan, signer: 'VLEK', maskChipId: false }).getReport())).not.toEqual(zero);
    expect(chipIdOf(new SimulatedFirmware({ root: roots.Milan, maskChipId: true }).getReport())).toEqual(zero);
    const vlek = parseReport(new SimulatedFirmware({ root: roots.Milan, signer: 'VLEK' }).getReport());
    expect(vlek.keyInfo).toBe(0x4);
  });

  it('takes policy as a u64 and accepts the default 0x30000', () => {
    expect(parseReport(new SimulatedFirmware({ root: roots.Genoa }).getReport()).policy).toBe(0x30000n);
    const r = parseReport(new SimulatedFirmware({ root: roots.Genoa, guest: { policy: 0x70000n } }).getReport());
    expect(decodePolicy(r.policy).migrateMa).toBe(true);
    expect(decodeKeyInfo(r.keyInfo).authorKeyEn).toBe(false);
  });

  it('refuses impossible requests', () => {
    const fw = new SimulatedFirmware({ root: roots.Milan });
    expect(() => fw.getReport(Buffer.alloc(65))).toThrow(RangeError);
    expect(() => fw.getReport(Buffer.alloc(1), 4)).toThrow(RangeError);
    expect(() => new SimulatedFirmware({ root: roots.Milan, version: 6 })).toThrow(RangeError);
    expect(() => new SimulatedFirmware({ root: roots.Milan, tcb: { fmc: 1 } })).toThrow(/only on Turin/);
    expect(() => new SimulatedFirmware({ root: roots.Milan, tcb: { snp: 256 } })).toThrow(/0\.\.255/);
    expect(() => new SimulatedFirmware({ root: roots.Turin, chipId: Buffer.alloc(64, 1) })).toThrow(/Turin chip id/);
    expect(() => new SimulatedFirmware({ root: roots.Genoa, guest: { measurement: Buffer.alloc(32) } })).toThrow(/48 bytes/);
  });

  it('round-trips any report data and VMPL, and signs exactly bytes 0..0x29F', () => {
    const fw = new SimulatedFirmware({ root: roots.Genoa, seed: 'property' });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 0, max: 3 }), (data, vmpl) => {
        const report = fw.getReport(data, vmpl);
        const r = parseReport(report);
        const padded = Buffer.alloc(64);
        padded.set(data);
        const tampered = Buffer.from(report);
        tampered[SIGNED_LENGTH - 1]! ^= 1;
        return r.problems.length === 0 && r.reportData.equals(padded) && r.vmpl === vmpl && signatureVerifies(report, fw.endorsement.key.publicKey) && !signatureVerifies(tampered, fw.endorsement.key.publicKey);
      }),
      { numRuns: 25 },
    );
  });

  it('gives each unseeded guest its own report id and signs with random nonces', async () => {
    const [root] = [(await createSimulatedRoots({ keyBits: 2048 })).Milan];
    const a = new SimulatedFirmware({ root });
    const b = new SimulatedFirmware({ root, chipId: a.chipId });
    const ra = a.getReport();
    expect(ra.subarray(OFF.reportId, OFF.reportId + 32)).not.toEqual(b.getReport().subarray(OFF.reportId, OFF.reportId + 32));
    expect(createHash('sha256').update(ra).digest()).not.toEqual(createHash('sha256').update(a.getReport()).digest());
    expect(a.endorsement.key.scalar).toEqual(b.endorsement.key.scalar);
  });
});
