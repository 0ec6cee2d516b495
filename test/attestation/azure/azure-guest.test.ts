import { X509Certificate, createHash, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AzureGuestVerifyOptions, TCG_EV, parseAttestationInfo, verifyAzureGuest } from '../../../attestation/azure/index.js';
import { policyPcrDigest } from '../../../attestation/azure/policy-pcr.js';
import { toPem } from '../../../attestation/snp/certificate.js';
import { loadCertificates } from '../../../attestation/snp/certificate.js';
import { type TrustStore, trustAnchorsFromPem } from '../../../attestation/snp/trust.js';
import {
  AK_ATTRIBUTES,
  EPHEMERAL_KEY_ATTRIBUTES,
  type SimVtpmCa,
  SimulatedVtpm,
  defaultBootEvents,
  encodeCertifyAttest,
  encodeRsaTpm2bPublic,
  encodeRsaTpmtPublic,
  simulatedGuestRequest,
  simulatedVtpmCa,
  tpmName,
  writeTcgLog,
} from '../../../simulator/azure/index.js';
import { SimulatedFirmware, createSimulatedRoots, simulatedRootsPem } from '../../../simulator/index.js';
import { resolve } from 'node:path';
import { SHARED_DIR } from '../../helpers/shared.js';

/**
 * MAA AzureGuest evidence (verifyAzureGuest) from the in-process simulated vTPM: the baseline verifies in
 * MAA's confidential-VM token shape, and each tampering of the request is refused with its own code.
 */
let vtpm: SimulatedVtpm;
let ca: SimVtpmCa;
let chainPem: string;
let trust: TrustStore;
let info: Record<string, unknown>;
beforeAll(async () => {
  const roots = await createSimulatedRoots({ seed: 'azure guest tests' });
  trust = trustAnchorsFromPem(simulatedRootsPem(roots), { simulated: true });
  const firmware = new SimulatedFirmware({ root: roots.Genoa });
  vtpm = await SimulatedVtpm.create({ firmware });
  ca = await simulatedVtpmCa();
  const x = firmware.getExtendedReport(Buffer.alloc(64));
  chainPem = toPem(x.endorsement) + toPem(x.intermediate) + toPem(x.ark);
  info = (await simulatedGuestRequest({ vtpm, akCa: ca, vcekChainPem: chainPem, clientPayload: { nonce: '1234' } })).attestationInfo;
});

const SAMPLE_CLAIMS = resolve(SHARED_DIR, 'vectors/azure/azureguest/sample_token_claims.json');
type Info = Record<string, unknown> & { TpmInfo: Record<string, unknown> };
const clone = (): Info => structuredClone(info) as Info;
const opts = (o: Partial<AzureGuestVerifyOptions> = {}): AzureGuestVerifyOptions => ({ certificates: loadCertificates(Buffer.from(chainPem)), trust, akCertAnchors: [ca.certificate], ...o });
const verify = (i: Record<string, unknown>, o: Partial<AzureGuestVerifyOptions> = {}) => verifyAzureGuest(parseAttestationInfo(Buffer.from(JSON.stringify(i)).toString('base64url')), opts(o));
const codes = (v: { errors: readonly { code: string }[] }) => v.errors.map((e) => e.code);
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const flip = (s: string, at: (n: number) => number): string => {
  const b = Buffer.from(s, 'base64');
  b[at(b.length)]! ^= 1;
  return b.toString('base64');
};

/** A key certified by the (simulated) AK, with the given attributes and policy: the AK really signs it. */
function certifiedKey(attributes: number, authPolicy: Buffer, resetCount = 1): Record<string, string> {
  const key = createPublicKey(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
  const name = tpmName(encodeRsaTpmtPublic({ key, attributes, authPolicy }));
  const clock = { clock: 5n, resetCount, restartCount: 0, safe: true };
  const certify = encodeCertifyAttest({ qualifiedSigner: Buffer.alloc(0), extraData: Buffer.alloc(0), clockInfo: clock, firmwareVersion: 1n, name, qualifiedName: name });
  return { EncKeyPub: b64(encodeRsaTpm2bPublic({ key, attributes, authPolicy })), EncKeyCertifyInfo: b64(certify), EncKeyCertifyInfoSignature: b64(sign('sha256', certify, vtpm.akPrivateKey)) };
}
const quotedPolicy = (i: Info): Buffer =>
  policyPcrDigest('sha256', { hash: 'sha256', pcrs: [0, 1, 2, 3, 4, 5, 6, 7] }, (i.TpmInfo.PCRs as Array<{ Digest: string }>).map((p) => Buffer.from(p.Digest, 'base64')));

describe('MAA AzureGuest evidence from the simulated vTPM', () => {
  it("verifies, and its claims have MAA's confidential-VM shape, with the certified ephemeral key as the wrapping key", () => {
    const v = verify(info);
    expect(codes(v)).toEqual([]);
    expect(v.ok).toBe(true);
    const c = v.claims!;
    expect(c).toMatchObject({
      'x-ms-attestation-type': 'azurevm',
      'x-ms-azurevm-attestation-protocol-ver': '2.0',
      'x-ms-azurevm-attested-pcrs': [0, 1, 2, 3, 4, 5, 6, 7],
      'x-ms-azurevm-ostype': 'Linux',
      'x-ms-azurevm-osdistro': 'Ubuntu',
      'x-ms-azurevm-is-windows': false,
      'x-ms-azurevm-vmid': vtpm.vmConfiguration.vmUniqueId,
      secureboot: true,
      'x-zt4ai-ak-cert-verified': true,
      'x-zt4ai-tcg-log-verified': true,
      'x-zt4ai-simulated': true,
    });
    expect(c['x-ms-isolation-tee']).toMatchObject({ 'x-ms-attestation-type': 'sevsnpvm', 'x-ms-sevsnpvm-vmpl': 0 });
    expect(c['x-ms-runtime']['client-payload']).toEqual({ nonce: 'MTIzNA==' });
    const jwk = v.encryptionKey!.export({ format: 'jwk' });
    expect(c['x-ms-runtime'].keys).toEqual([{ kid: 'TpmEphemeralEncryptionKey', key_ops: ['encrypt'], kty: 'RSA', n: jwk.n, e: jwk.e }]);
  });

  it.skipIf(!existsSync(SAMPLE_CLAIMS))(`has the claim names of the real MAA sample token (shared vector) that it can back${existsSync(SAMPLE_CLAIMS) ? '' : ` (SKIPPED: ${SAMPLE_CLAIMS} is absent)`}`, () => {
    const sample = JSON.parse(readFileSync(SAMPLE_CLAIMS, 'utf8')) as Record<string, unknown>;
    const c = verify(info).claims! as unknown as Record<string, unknown>;
    for (const name of ['x-ms-attestation-type', 'x-ms-azurevm-attestation-protocol-ver', 'x-ms-azurevm-attested-pcrs', 'x-ms-azurevm-ostype', 'x-ms-azurevm-osdistro', 'x-ms-azurevm-vmid', 'secureboot', 'x-ms-isolation-tee', 'x-ms-runtime']) {
      expect(name in sample, name).toBe(true);
      expect(typeof c[name], name).toBe(typeof sample[name]);
    }
    const tee = sample['x-ms-isolation-tee'] as Record<string, unknown>;
    const mine = c['x-ms-isolation-tee'] as Record<string, unknown>;
    for (const name of Object.keys(tee)) expect(name in mine, name).toBe(true);
  });

  it('without AK certificate anchors: the AK certificate must still certify the AK, and a warning says the issuer was not judged', () => {
    const v = verify(info, { akCertAnchors: [] });
    expect(v.ok).toBe(true);
    expect(v.claims!['x-zt4ai-ak-cert-verified']).toBe(false);
    expect(v.warnings.map((w) => w.code)).toContain('WARN_AK_CERT_UNVERIFIED');
  });

  it('without a TCG log: verifies, says so, and makes no secureboot claim', async () => {
    const bare = (await simulatedGuestRequest({ vtpm, akCa: ca, vcekChainPem: chainPem, bootEvents: [] })).attestationInfo;
    const v = verify(bare);
    expect(v.ok).toBe(true);
    expect(v.warnings.map((w) => w.code)).toContain('WARN_TCG_LOG_MISSING');
    expect('secureboot' in v.claims!).toBe(false);
  });

  it('takes VcekCertChain as base64 of PEM (Microsoft\'s library) or as PEM, and base64url fields (Microsoft\'s Python tools)', () => {
    const pem = clone();
    const ev = (pem.IsolationInfo as { Evidence: { Proof: string; RunTimeData: string } }).Evidence;
    const proof = JSON.parse(Buffer.from(ev.Proof, 'base64').toString('utf8')) as { VcekCertChain: string };
    expect(Buffer.from(proof.VcekCertChain, 'base64').toString('utf8')).toContain('-----BEGIN CERTIFICATE-----');
    proof.VcekCertChain = chainPem;
    ev.Proof = Buffer.from(JSON.stringify(proof)).toString('base64url');
    ev.RunTimeData = Buffer.from(ev.RunTimeData, 'base64').toString('base64url');
    const request = parseAttestationInfo(Buffer.from(JSON.stringify(pem)).toString('base64url'));
    expect(request.isolation.vcekCertChain.toString('utf8')).toBe(chainPem.trim());
    expect(verify(pem).ok).toBe(true);
  });

  it("says whether the SNP-signed user-data binds the runtime data in ClientPayload (Azure's paravisor puts it there)", async () => {
    const runtime = JSON.stringify({ keys: [], 'x-zt4ai-config': 'c'.repeat(64) });
    const payload = { 'zt4ai-runtime-data': runtime };
    expect(verify((await simulatedGuestRequest({ vtpm, akCa: ca, vcekChainPem: chainPem, clientPayload: payload })).attestationInfo).claims!['x-zt4ai-runtime-data-bound']).toBe(false);
    vtpm.writeUserData(createHash('sha256').update(runtime).digest());
    try {
      const bound = verify((await simulatedGuestRequest({ vtpm, akCa: ca, vcekChainPem: chainPem, clientPayload: payload })).attestationInfo);
      expect(bound.claims!['x-zt4ai-runtime-data-bound']).toBe(true);
      const other = verify((await simulatedGuestRequest({ vtpm, akCa: ca, vcekChainPem: chainPem, clientPayload: { 'zt4ai-runtime-data': `${runtime} ` } })).attestationInfo);
      expect(other.claims!['x-zt4ai-runtime-data-bound']).toBe(false);
    } finally {
      vtpm.writeUserData(Buffer.alloc(64));
    }
  });

  it('a boot with SecureBoot off is reported as such', async () => {
    const off = defaultBootEvents().map((e) => (e.eventType === TCG_EV.EFI_VARIABLE_DRIVER_CONFIG ? { ...e, event: Buffer.concat([e.event.subarray(0, -1), Buffer.from([0])]) } : e));
    const v = verify((await simulatedGuestRequest({ vtpm, akCa: ca, vcekChainPem: chainPem, bootEvents: off })).attestationInfo);
    expect(v.ok).toBe(true);
    expect(v.claims!.secureboot).toBe(false);
  });
});

describe('each tampering of AzureGuest evidence has its own code', () => {
  const cases: Array<[string, (i: Info) => void, string[]]> = [
    ['runtime claims edited after the SNP report bound them', (i) => {
      const ev = (i.IsolationInfo as { Evidence: { RunTimeData: string } }).Evidence;
      ev.RunTimeData = b64(Buffer.from(Buffer.from(ev.RunTimeData, 'base64').toString('utf8').replace('"vmUniqueId":"', '"vmUniqueId":"0')));
    }, ['ERR_HCL_CLAIMS_NOT_BOUND']],
    ['AikPub is another key than HCLAkPub', (i) => {
      const other = createPublicKey(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
      i.TpmInfo.AikPub = b64(encodeRsaTpm2bPublic({ key: other, attributes: AK_ATTRIBUTES, rsassaSha256: true }));
    }, ['ERR_AZURE_GUEST_AK']],
    ['the quote altered', (i) => { i.TpmInfo.PcrQuote = flip(i.TpmInfo.PcrQuote as string, (n) => n - 1); }, ['ERR_TPM_QUOTE_SIGNATURE', 'ERR_TPM_PCR_DIGEST']],
    ['a PCR value other than the quoted one', (i) => { (i.TpmInfo.PCRs as Array<{ Digest: string }>)[7]!.Digest = b64(Buffer.alloc(32, 7)); }, ['ERR_TPM_PCR_DIGEST']],
    ['PcrSet does not list the PCRs supplied', (i) => { i.TpmInfo.PcrSet = [0, 1, 2, 3, 4, 5, 6]; }, ['ERR_TPM_PCR_SELECTION']],
    ['the certify signature altered', (i) => { i.TpmInfo.EncKeyCertifyInfoSignature = flip(i.TpmInfo.EncKeyCertifyInfoSignature as string, () => 0); }, ['ERR_TPM_CERTIFY_SIGNATURE']],
    ['EncKeyPub swapped after certification', (i) => { i.TpmInfo.EncKeyPub = flip(i.TpmInfo.EncKeyPub as string, (n) => n - 3); }, ['ERR_TPM_CERTIFY_NAME']],
    ['a certified key usable with its password (userWithAuth)', (i) => Object.assign(i.TpmInfo, certifiedKey(EPHEMERAL_KEY_ATTRIBUTES | 0x40, quotedPolicy(i))), ['ERR_ENC_KEY_ATTRIBUTES']],
    ['a certified key that may sign', (i) => Object.assign(i.TpmInfo, certifiedKey(EPHEMERAL_KEY_ATTRIBUTES | 0x40000, quotedPolicy(i))), ['ERR_ENC_KEY_ATTRIBUTES']],
    ['a certified key bound to other PCR values', (i) => Object.assign(i.TpmInfo, certifiedKey(EPHEMERAL_KEY_ATTRIBUTES, Buffer.alloc(32))), ['ERR_ENC_KEY_POLICY']],
    ['a TCG log of another boot', (i) => { i.TcgLogs = b64(writeTcgLog(defaultBootEvents().filter((e) => e.eventType !== TCG_EV.S_CRTM_VERSION)).log); }, ['ERR_TCG_LOG_REPLAY']],
    ['the SecureBoot variable edited in the log (digests kept)', (i) => {
      const log = Buffer.from(i.TcgLogs as string, 'base64');
      const name = Buffer.from('SecureBoot', 'utf16le');
      log[log.indexOf(name) + name.length]! ^= 1;
      i.TcgLogs = b64(log);
    }, ['ERR_TCG_LOG_EVENT']],
    ['a truncated TCG log', (i) => { i.TcgLogs = b64(Buffer.from(i.TcgLogs as string, 'base64').subarray(0, 100)); }, ['ERR_TCG_LOG_MALFORMED']],
  ];
  for (const [what, tamper, expected] of cases) {
    it(`${what}: ${expected.join(', ')}`, () => {
      const i = clone();
      tamper(i);
      const v = verify(i);
      expect(codes(v)).toEqual(expected);
      expect(v.ok).toBe(false);
      expect(v.claims).toBeNull();
      expect(v.encryptionKey).toBeNull();
    });
  }

  it('SecureBoot forged after boot (an "on" record appended to the log and extended into PCR 7) is not believed', async () => {
    const sb = (v: number) => defaultBootEvents().find((e) => e.eventType === TCG_EV.EFI_VARIABLE_DRIVER_CONFIG)!.event.subarray(0, -1).toString('hex') + (v ? '01' : '00');
    const off = defaultBootEvents().map((e) => (e.eventType === TCG_EV.EFI_VARIABLE_DRIVER_CONFIG ? { ...e, event: Buffer.from(sb(0), 'hex') } : e));
    const appended = { pcrIndex: 7, eventType: TCG_EV.EFI_VARIABLE_DRIVER_CONFIG, event: Buffer.from(sb(1), 'hex') };
    const forged = verify((await simulatedGuestRequest({ vtpm, akCa: ca, vcekChainPem: chainPem, bootEvents: [...off, appended] })).attestationInfo);
    expect(forged.ok).toBe(true);
    expect(forged.claims!.secureboot).toBe(false);
    const relabelled = off.map((e) => (e.eventType === TCG_EV.EFI_VARIABLE_DRIVER_CONFIG ? { ...e, eventType: 0x800000e0 } : e));
    const hidden = verify((await simulatedGuestRequest({ vtpm, akCa: ca, vcekChainPem: chainPem, bootEvents: [...relabelled, appended] })).attestationInfo);
    expect('secureboot' in hidden.claims!).toBe(false);
  });

  it('a key certified in another TPM boot than the quote: ERR_TPM_CERTIFY_BOOT', () => {
    const i = clone();
    Object.assign(i.TpmInfo, certifiedKey(EPHEMERAL_KEY_ATTRIBUTES, quotedPolicy(i), 2));
    expect(codes(verify(i))).toEqual(['ERR_TPM_CERTIFY_BOOT']);
  });

  it('an AK certificate from another CA: ERR_AK_CERT; one for another key: ERR_AK_CERT', async () => {
    const other = await simulatedVtpmCa();
    const i = clone();
    i.TpmInfo.AikCert = b64(await other.issueAkCertificate(createPublicKey(vtpm.akPrivateKey), 'vm'));
    expect(codes(verify(i))).toEqual(['ERR_AK_CERT']);
    const j = clone();
    j.TpmInfo.AikCert = b64(await ca.issueAkCertificate(createPublicKey(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey), 'vm'));
    expect(codes(verify(j))).toEqual(['ERR_AK_CERT']);
  });

  it('an expired AK certificate: ERR_AK_CERT', () => {
    const later = new Date(new X509Certificate(Buffer.from(clone().TpmInfo.AikCert as string, 'base64')).validTo);
    later.setDate(later.getDate() + 1);
    expect(codes(verify(clone(), { now: later }))).toContain('ERR_AK_CERT');
  });

  it('malformed requests: ERR_AZURE_GUEST_MALFORMED naming the field; a TrustedLaunch VM: ERR_AZURE_GUEST_ISOLATION', () => {
    const parse = (i: unknown) => {
      try {
        parseAttestationInfo(Buffer.from(JSON.stringify(i)).toString('base64url'));
        return null;
      } catch (e) {
        return [(e as { code: string }).code, (e as Error).message];
      }
    };
    const i = clone();
    delete i.TpmInfo.EncKeyPub;
    expect(parse(i)).toEqual(['ERR_AZURE_GUEST_MALFORMED', expect.stringContaining('TpmInfo.EncKeyPub')]);
    expect(parse({ ...clone(), TpmInfo: { ...clone().TpmInfo, PCRs: [{ Index: 0, Digest: b64(Buffer.alloc(20)) }] } })?.[0]).toBe('ERR_AZURE_GUEST_MALFORMED');
    expect(parse({ ...clone(), IsolationInfo: { Type: 'TrustedLaunch' } })?.[0]).toBe('ERR_AZURE_GUEST_ISOLATION');
    expect(() => parseAttestationInfo('not base64url!')).toThrow(expect.objectContaining({ code: 'ERR_AZURE_GUEST_MALFORMED' }));
    expect(() => parseAttestationInfo(Buffer.from('[1]').toString('base64url'))).toThrow(expect.objectContaining({ code: 'ERR_AZURE_GUEST_MALFORMED' }));
  });
});
