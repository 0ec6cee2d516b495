import { createHash, createPublicKey, verify } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { runtimeClaimsBound } from '../../../attestation/azure/binding.js';
import { parseHclReport } from '../../../attestation/azure/hcl.js';
import { parseRuntimeClaims } from '../../../attestation/azure/runtime-claims.js';
import { parsePcrValues } from '../../../attestation/azure/tpm-pcrs.js';
import { verifyTpmQuote } from '../../../attestation/azure/tpm-quote.js';
import { parseTpmtSignature } from '../../../attestation/azure/tpm-signature.js';
import { parseQuoteAttest } from '../../../attestation/azure/tpm-structures.js';
import { SimulatedAmdRoot, type SimulatedRoots, SimulatedFirmware, createSimulatedRoots, fixtureRootKeys } from '../../../simulator/index.js';
import { SimulatedVtpm, fixtureVtpmKeys, rsaAkName } from '../../../simulator/azure/index.js';
import { HAS_SHARED, snpVector } from '../../helpers/shared.js';

let roots: SimulatedRoots;
beforeAll(async () => {
  roots = await createSimulatedRoots({ seed: 'vtpm tests' });
});

const vtpmFor = (seed?: string) => SimulatedVtpm.create({ firmware: new SimulatedFirmware({ root: roots.Milan }), ...(seed ? { seed } : {}) });

describe('SimulatedVtpm', () => {
  it('seeded: byte-identical HCL reports and quotes from the committed fixture AK', async () => {
    const [a, b] = await Promise.all([vtpmFor(), vtpmFor()]);
    expect(a.hclReport().equals(b.hclReport())).toBe(true);
    const nonce = Buffer.from('n');
    expect(a.quote(nonce).message.equals(b.quote(nonce).message)).toBe(true);
    expect(a.quote(nonce).signature.equals(b.quote(nonce).signature)).toBe(true);
    const ak = parseRuntimeClaims(parseHclReport(a.hclReport()).runtimeClaims).ak.key;
    expect(ak.equals(createPublicKey(fixtureVtpmKeys().ak))).toBe(true);
    const other = await vtpmFor('another seed');
    expect(other.vmConfiguration.vmUniqueId).not.toBe(a.vmConfiguration.vmUniqueId);
    expect(other.hclReport().equals(a.hclReport())).toBe(false);
  });

  it('unseeded: a fresh RSA-2048 AK and EK per vTPM', async () => {
    const unseeded = await SimulatedAmdRoot.create({ product: 'Milan', keys: fixtureRootKeys('Milan') });
    const fw = new SimulatedFirmware({ root: unseeded });
    const [a, b] = await Promise.all([SimulatedVtpm.create({ firmware: fw }), SimulatedVtpm.create({ firmware: fw })]);
    expect(a.akPrivateKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(createPublicKey(a.akPrivateKey).equals(createPublicKey(b.akPrivateKey))).toBe(false);
  });

  it('the HCL report has the real layout: 2600 bytes of NV, SNP report at 0x20 requested at VMPL 0, claims bound', async () => {
    const hclBytes = (await vtpmFor()).hclReport();
    expect(hclBytes.length).toBe(2600);
    expect(hclBytes.subarray(0, 4).toString('latin1')).toBe('HCLA');
    const hcl = parseHclReport(hclBytes);
    expect(hcl.version).toBe(2);
    expect(hcl.snpReport.readUInt32LE(0x30)).toBe(0);
    expect(runtimeClaimsBound(hcl)).toBe(true);
    expect(hcl.snpReport.subarray(0x50, 0x70).equals(createHash('sha256').update(hcl.runtimeClaims).digest())).toBe(true);
  });

  it.skipIf(!HAS_SHARED)('the runtime claims have the members, order and encodings of the real Azure ones', async () => {
    const ours = JSON.parse((await vtpmFor()).runtimeClaims().toString('utf8')) as Record<string, Record<string, unknown>>;
    const real = JSON.parse(parseHclReport(snpVector('trustee/az-snp-vtpm/milan-report-v3.hcl-report.bin')).runtimeClaims.toString('utf8')) as Record<string, Record<string, unknown>>;
    expect(Object.keys(ours)).toEqual(Object.keys(real));
    expect(Object.keys(ours['vm-configuration']!)).toEqual(Object.keys(real['vm-configuration']!));
    const keys = (o: Record<string, unknown>) => (o.keys as Record<string, unknown>[]).map((k) => ({ ...k, n: typeof k.n }));
    expect(keys(ours)).toEqual(keys(real));
    expect(ours['user-data']).toMatch(/^[0-9A-F]{128}$/);
  });

  it('user data written to NV 0x01400002 appears as user-data in the next report', async () => {
    const vtpm = await vtpmFor();
    vtpm.writeUserData(Buffer.from('abc'));
    const rc = parseRuntimeClaims(parseHclReport(vtpm.hclReport()).runtimeClaims);
    expect(rc.userData?.subarray(0, 4)).toEqual(Buffer.from('abc\0'));
    expect(() => vtpm.writeUserData(Buffer.alloc(65))).toThrow(RangeError);
  });

  it('quotes: a TPMS_ATTEST signed RSASSA/SHA-256 by the AK, qualified by the AK name and the nonce', async () => {
    const vtpm = await vtpmFor();
    const nonce = Buffer.alloc(32, 9);
    const q = vtpm.quote(nonce, [7, 0, 7, 16]);
    const attest = parseQuoteAttest(q.message);
    expect(attest.extraData.equals(nonce)).toBe(true);
    expect(attest.qualifiedSigner.equals(rsaAkName(createPublicKey(vtpm.akPrivateKey)))).toBe(true);
    expect(attest.pcrSelection).toEqual([{ hash: 'sha256', sizeofSelect: 3, pcrs: [0, 7, 16] }]);
    expect(parseTpmtSignature(q.signature)).toMatchObject({ scheme: 'rsassa', hash: 'sha256' });
    expect(verify('sha256', q.message, vtpm.akPrivateKey, q.signature.subarray(6))).toBe(true);
    const later = parseQuoteAttest(vtpm.quote(nonce).message);
    expect(later.clockInfo.clock > attest.clockInfo.clock).toBe(true);
    const ok = verifyTpmQuote(q, { ak: createPublicKey(vtpm.akPrivateKey), nonce, pcrs: parsePcrValues(q.pcrsJson()) });
    expect(ok.errors).toEqual([]);
    expect(q.toJSON()).toEqual({ message: q.message.toString('hex'), signature: q.signature.toString('hex') });
    expect(() => vtpm.quote(Buffer.alloc(65))).toThrow(RangeError);
  });

  it('PCRs look like a booted CVM and extend like a TPM', async () => {
    const vtpm = await vtpmFor();
    expect(vtpm.pcrs.read(17).equals(Buffer.alloc(32, 0xff))).toBe(true);
    expect(vtpm.pcrs.read(8).equals(Buffer.alloc(32))).toBe(true);
    const before = vtpm.pcrs.read(8);
    vtpm.pcrs.extend(8, Buffer.alloc(32, 1));
    expect(vtpm.pcrs.read(8).equals(createHash('sha256').update(before).update(Buffer.alloc(32, 1)).digest())).toBe(true);
    expect(() => vtpm.pcrs.read(24)).toThrow(RangeError);
  });
});
