import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseHclReport } from '../../../attestation/azure/hcl.js';
import { HCL_OFF, type HclHashName } from '../../../attestation/azure/hcl-layout.js';
import { parsePcrValues } from '../../../attestation/azure/tpm-pcrs.js';
import { type HclVerifyOptions, verifyHclEvidence } from '../../../attestation/azure/verify-hcl.js';
import { parseCertificate } from '../../../attestation/snp/certificate.js';
import { type TrustStore, trustAnchorsFromPem } from '../../../attestation/snp/trust.js';
import { SimulatedFirmware, createSimulatedRoots, simulatedRootsPem } from '../../../simulator/index.js';
import { SimulatedVtpm, encodeHclReport, publicJwk } from '../../../simulator/azure/index.js';

let fw: SimulatedFirmware;
let vtpm: SimulatedVtpm;
let trust: TrustStore;
beforeAll(async () => {
  const roots = await createSimulatedRoots({ seed: 'azure tamper tests' });
  trust = trustAnchorsFromPem(simulatedRootsPem(roots), { simulated: true });
  fw = new SimulatedFirmware({ root: roots.Genoa });
  vtpm = await SimulatedVtpm.create({ firmware: fw });
});

const NONCE = Buffer.from('krs-challenge-0001');
const codes = (v: { errors: readonly { code: string }[] }) => v.errors.map((e) => e.code);
const base = (): HclVerifyOptions => ({ certificates: [parseCertificate(fw.endorsement.der)], trust });
const withQuote = (q = vtpm.quote(NONCE), extra: Partial<NonNullable<HclVerifyOptions['tpm']>> = {}): HclVerifyOptions => ({
  ...base(),
  tpm: { quote: q, nonce: NONCE, pcrs: parsePcrValues(q.pcrsJson()), ...extra },
});

/** An HCL report around `claims` whose SNP report really binds them (the firmware signs their hash). */
function boundHcl(claims: Buffer, o: { hashType?: HclHashName; vmpl?: number } = {}): Buffer {
  const hashType = o.hashType ?? 'sha256';
  const snpReport = fw.getReport(createHash(hashType).update(claims).digest(), o.vmpl ?? 0);
  return encodeHclReport({ snpReport, runtimeClaims: claims, hashType, padTo: 2600 });
}
const claimsJson = () => JSON.parse(vtpm.runtimeClaims().toString('utf8')) as { keys: Record<string, unknown>[]; [k: string]: unknown };
const json = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('simulated Azure evidence verifies; each tampering has its own code', () => {
  it('baseline: HCL report + quote from the simulated vTPM verify, marked simulated', () => {
    const v = verifyHclEvidence(vtpm.hclReport(), withQuote());
    expect(codes(v)).toEqual([]);
    expect(v.ok).toBe(true);
    expect(v.claims!['x-zt4ai-simulated']).toBe(true);
    expect(v.warnings.map((w) => w.code)).toContain('WARN_SIMULATED');
  });

  it('claims JSON edited: REPORT_DATA no longer binds it (ERR_HCL_CLAIMS_NOT_BOUND)', () => {
    const hcl = vtpm.hclReport();
    const at = hcl.indexOf('"vmUniqueId":"') + '"vmUniqueId":"'.length;
    hcl.write(hcl[at] === 0x30 ? '1' : '0', at);
    const v = verifyHclEvidence(hcl, withQuote());
    expect(codes(v)).toEqual(['ERR_HCL_CLAIMS_NOT_BOUND']);
    expect(v.runtimeClaimsBound).toBe(false);
    expect(v.claims).toBeNull();
    expect(v.runtimeClaimsJson?.['vm-configuration']).toMatchObject({ vmUniqueId: hcl.subarray(at, at + 36).toString() });
  });

  it('AK swapped in the claims: a quote by the new key verifies but the binding breaks', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const claims = claimsJson();
    claims.keys[0] = publicJwk('HCLAkPub', 'sign', privateKey);
    const swapped = encodeHclReport({ snpReport: parseHclReport(vtpm.hclReport()).snpReport, runtimeClaims: json(claims), padTo: 2600 });
    const honest = vtpm.quote(NONCE);
    const forged = { ...honest, signature: Buffer.concat([honest.signature.subarray(0, 6), sign('sha256', honest.message, privateKey)]) };
    expect(codes(verifyHclEvidence(swapped, withQuote(forged)))).toEqual(['ERR_HCL_CLAIMS_NOT_BOUND']);
    expect(codes(verifyHclEvidence(vtpm.hclReport(), withQuote(forged)))).toEqual(['ERR_TPM_QUOTE_SIGNATURE']);
  });

  it('quote signature flipped (ERR_TPM_QUOTE_SIGNATURE)', () => {
    const q = vtpm.quote(NONCE);
    const signature = Buffer.from(q.signature);
    signature[signature.length - 1]! ^= 0x01;
    expect(codes(verifyHclEvidence(vtpm.hclReport(), withQuote({ ...q, signature })))).toEqual(['ERR_TPM_QUOTE_SIGNATURE']);
  });

  it('quote made for another nonce (ERR_TPM_QUOTE_NONCE)', () => {
    expect(codes(verifyHclEvidence(vtpm.hclReport(), withQuote(vtpm.quote(Buffer.from('old-challenge')))))).toEqual(['ERR_TPM_QUOTE_NONCE']);
  });

  it('a PCR value changed (ERR_TPM_PCR_DIGEST); a selected PCR left out (ERR_TPM_PCR_MISSING); a required PCR not quoted (ERR_TPM_PCR_SELECTION)', () => {
    const q = vtpm.quote(NONCE, [0, 7, 14]);
    const pcrs = q.pcrsJson();
    pcrs['7'] = 'ab'.repeat(32);
    expect(codes(verifyHclEvidence(vtpm.hclReport(), withQuote(q, { pcrs: parsePcrValues(pcrs) })))).toEqual(['ERR_TPM_PCR_DIGEST']);
    expect(codes(verifyHclEvidence(vtpm.hclReport(), withQuote(q, { pcrs: parsePcrValues({ '0': pcrs['0'] }) })))).toEqual(['ERR_TPM_PCR_MISSING']);
    expect(codes(verifyHclEvidence(vtpm.hclReport(), withQuote(q, { requiredPcrs: [0, 8] })))).toEqual(['ERR_TPM_PCR_SELECTION']);
  });

  it('a PCR extended after the quote no longer matches the old quote', () => {
    const q = vtpm.quote(NONCE, [0, 1, 2, 3]);
    vtpm.pcrs.extend(2, Buffer.alloc(32, 7));
    expect(codes(verifyHclEvidence(vtpm.hclReport(), withQuote(q, { pcrs: parsePcrValues({ sha256: vtpm.quote(NONCE, [0, 1, 2, 3]).pcrsJson() }) })))).toEqual(['ERR_TPM_PCR_DIGEST']);
  });

  it('quote magic or type wrong (ERR_TPM_QUOTE_MAGIC, ERR_TPM_QUOTE_TYPE)', () => {
    const q = vtpm.quote(NONCE);
    const magic = Buffer.from(q.message);
    magic[0] = 0x00;
    expect(codes(verifyHclEvidence(vtpm.hclReport(), withQuote({ ...q, message: magic })))).toEqual(['ERR_TPM_QUOTE_MAGIC']);
    const type = Buffer.from(q.message);
    type.writeUInt16BE(0x8017, 4);
    expect(codes(verifyHclEvidence(vtpm.hclReport(), withQuote({ ...q, message: type })))).toEqual(['ERR_TPM_QUOTE_TYPE']);
  });

  it('a quote is required when asked (ERR_TPM_QUOTE_MISSING)', () => {
    expect(codes(verifyHclEvidence(vtpm.hclReport(), { ...base(), requireQuote: true }))).toEqual(['ERR_TPM_QUOTE_MISSING']);
  });

  it('truncated or oversized HCL reports (ERR_HCL_TRUNCATED, ERR_HCL_OVERSIZED)', () => {
    const hcl = vtpm.hclReport();
    const size = parseHclReport(hcl).reportSize;
    expect(codes(verifyHclEvidence(hcl.subarray(0, size - 1), base()))).toEqual(['ERR_HCL_TRUNCATED']);
    expect(codes(verifyHclEvidence(hcl.subarray(0, 0x4c0), base()))).toEqual(['ERR_HCL_TRUNCATED']);
    expect(codes(verifyHclEvidence(hcl.subarray(0, size), base()))).toEqual([]);
    const junk = Buffer.from(hcl);
    junk[junk.length - 1] = 1;
    expect(codes(verifyHclEvidence(junk, base()))).toEqual(['ERR_HCL_OVERSIZED']);
    expect(codes(verifyHclEvidence(Buffer.concat([hcl, Buffer.alloc(64 * 1024)]), base()))).toEqual(['ERR_HCL_OVERSIZED']);
    const huge = Buffer.from(hcl);
    huge.writeUInt32LE(0xffffffff, HCL_OFF.variableDataSize);
    expect(codes(verifyHclEvidence(huge, base()))).toEqual(['ERR_HCL_TRUNCATED']);
  });

  it('wrong report type (ERR_HCL_REPORT_TYPE, TDX named), unknown hash type, version or magic', () => {
    const edit = (off: number, value: number) => {
      const b = vtpm.hclReport();
      b.writeUInt32LE(value, off);
      return verifyHclEvidence(b, base());
    };
    const tdx = edit(HCL_OFF.reportType, 4);
    expect(codes(tdx)).toEqual(['ERR_HCL_REPORT_TYPE']);
    expect(tdx.errors[0]!.message).toContain('TDX');
    expect(codes(edit(HCL_OFF.hashType, 0))).toEqual(['ERR_HCL_HASH_TYPE']);
    expect(codes(edit(HCL_OFF.version, 3))).toEqual(['ERR_HCL_VERSION']);
    expect(codes(edit(HCL_OFF.requestDataVersion, 9))).toEqual(['ERR_HCL_VERSION']);
    expect(codes(edit(0, 0x41424344))).toEqual(['ERR_HCL_MAGIC']);
    expect(codes(edit(HCL_OFF.dataSize, 1))).toEqual(['ERR_HCL_LAYOUT']);
    expect(codes(edit(HCL_OFF.reportSize, 1))).toEqual(['ERR_HCL_LAYOUT']);
  });

  it('a hash type that disagrees with REPORT_DATA breaks the binding; SHA-384 and SHA-512 reports verify', () => {
    const b = vtpm.hclReport();
    b.writeUInt32LE(2, HCL_OFF.hashType);
    expect(codes(verifyHclEvidence(b, base()))).toEqual(['ERR_HCL_CLAIMS_NOT_BOUND']);
    for (const hashType of ['sha384', 'sha512'] as const) {
      const v = verifyHclEvidence(boundHcl(vtpm.runtimeClaims(), { hashType }), base());
      expect(codes(v)).toEqual([]);
      expect(parseHclReport(boundHcl(vtpm.runtimeClaims(), { hashType })).hashType).toBe(hashType);
    }
  });

  it('non-zero bytes after the hash in REPORT_DATA break the binding', () => {
    const claims = vtpm.runtimeClaims();
    const data = Buffer.concat([createHash('sha256').update(claims).digest(), Buffer.alloc(32, 1)]);
    const hcl = encodeHclReport({ snpReport: fw.getReport(data), runtimeClaims: claims });
    expect(codes(verifyHclEvidence(hcl, base()))).toEqual(['ERR_HCL_CLAIMS_NOT_BOUND']);
  });

  it('an SNP report requested at VMPL 1 (ERR_HCL_VMPL)', () => {
    expect(codes(verifyHclEvidence(vtpm.hclReport({ vmpl: 1 }), base()))).toEqual(['ERR_HCL_VMPL']);
  });

  it('bound but malformed runtime claims: no AK, AK not for signing, bad key, duplicates, not JSON', () => {
    const c = claimsJson();
    const check = (claims: Buffer) => codes(verifyHclEvidence(boundHcl(claims), base()));
    expect(check(json({ ...c, keys: c.keys.slice(1) }))).toEqual(['ERR_HCL_AK_MISSING']);
    expect(check(json({ ...c, keys: [{ ...c.keys[0], key_ops: ['encrypt'] }, c.keys[1]] }))).toEqual(['ERR_HCL_KEY_INVALID']);
    expect(check(json({ ...c, keys: [{ ...c.keys[0], kty: 'EC' }, c.keys[1]] }))).toEqual(['ERR_HCL_KEY_INVALID']);
    expect(check(json({ ...c, keys: [{ ...c.keys[0], n: 'AQAB' }, c.keys[1]] }))).toEqual(['ERR_HCL_KEY_INVALID']);
    expect(check(json({ ...c, keys: [c.keys[0], c.keys[0], c.keys[1]] }))).toEqual(['ERR_HCL_RUNTIME_CLAIMS']);
    const text = vtpm.runtimeClaims().toString('utf8');
    expect(check(Buffer.from(text.replace('"user-data"', '"keys":[],"user-data"')))).toEqual(['ERR_HCL_RUNTIME_CLAIMS']);
    expect(check(Buffer.from(`\ufeff${text}`))).toEqual(['ERR_HCL_RUNTIME_CLAIMS']);
    expect(check(Buffer.from([0x7b, 0xff, 0x7d]))).toEqual(['ERR_HCL_RUNTIME_CLAIMS']);
    expect(check(json({ ...c, 'vm-configuration': { 'secure-boot': 'yes' } }))).toEqual(['ERR_HCL_RUNTIME_CLAIMS']);
    expect(check(json({ ...c, 'user-data': 'xyz' }))).toEqual(['ERR_HCL_RUNTIME_CLAIMS']);
  });

  it('user-data written to NV 0x01400002 can stand in for a quote (expectedUserData)', () => {
    vtpm.writeUserData(Buffer.from('nonce-in-nv'));
    const hcl = vtpm.hclReport();
    expect(codes(verifyHclEvidence(hcl, { ...base(), expectedUserData: Buffer.from('nonce-in-nv') }))).toEqual([]);
    expect(codes(verifyHclEvidence(hcl, { ...base(), expectedUserData: Buffer.from('other') }))).toEqual(['ERR_HCL_USER_DATA']);
    vtpm.writeUserData(Buffer.alloc(0));
  });

  it('the guest runtime data is reported as top-level x-ms-runtime when given', () => {
    const v = verifyHclEvidence(vtpm.hclReport(), { ...withQuote(), runtimeData: { keys: [{ kid: 'runner' }] } });
    expect(v.claims!['x-ms-runtime']).toEqual({ keys: [{ kid: 'runner' }] });
  });
});
