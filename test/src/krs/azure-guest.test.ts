import { type KeyObject, constants, privateDecrypt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toPem } from '../../../attestation/snp/certificate.js';
import type { AuditEntry } from '../../../keys/audit/index.js';
import { openReleaseResponse } from '../../../keys/release/index.js';
import { openMaaToken } from '../../../keys/wrap/maa-envelope.js';
import { type SimVtpmCa, SimulatedVtpm, defaultBootEvents, simulatedGuestRequest, simulatedVtpmCa } from '../../../simulator/azure/index.js';
import { SimulatedFirmware } from '../../../simulator/index.js';
import { type ErrorBody, ISSUER, b64u, removeTempDirs, simRoots, tempDir, testApp } from './fixtures.js';
import { KV, type KeyApp, exportableKey, keyApp, policyData } from './key-fixtures.js';

/**
 * POST /attest/AzureGuest: MAA's confidential-VM flow on the KRS, with evidence from the in-process simulated
 * vTPM. The answer is MAA's envelope, readable only with the certified ephemeral key; its token wraps a Key
 * Vault release to that key.
 */
const GUEST_URL = '/attest/AzureGuest?api-version=2020-10-01';

let vtpm: SimulatedVtpm;
let ca: SimVtpmCa;
let chainPem: string;
let anchorsFile: string;
beforeAll(async () => {
  const firmware = new SimulatedFirmware({ root: (await simRoots()).Genoa });
  vtpm = await SimulatedVtpm.create({ firmware });
  ca = await simulatedVtpmCa();
  const x = firmware.getExtendedReport(Buffer.alloc(64));
  chainPem = toPem(x.endorsement) + toPem(x.intermediate) + toPem(x.ark);
  anchorsFile = join(tempDir('vtpm-ca'), 'vtpm-ca.pem');
  writeFileSync(anchorsFile, ca.pem);
});
afterAll(removeTempDirs);

/**
 * RSAES-PKCS1-v1_5 decryption as the vTPM does it (node refuses PKCS#1 v1.5 private decryption since
 * CVE-2023-46809): raw RSA, then the type-2 padding. Test-only: not constant time.
 */
function tpmRsaes(key: KeyObject): (ct: Buffer) => Promise<Buffer> {
  return async (ct) => {
    const em = privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, ct);
    const sep = em.indexOf(0, 2);
    if (em[0] !== 0 || em[1] !== 2 || sep < 10) throw new Error('not PKCS#1 v1.5 type 2');
    return em.subarray(sep + 1);
  };
}

async function guestBody(o: { tamper?: (info: Record<string, unknown>) => void } = {}): Promise<{ body: { AttestationInfo: string }; key: KeyObject }> {
  const r = await simulatedGuestRequest({ vtpm, akCa: ca, vcekChainPem: chainPem, clientPayload: { 'zt4ai-config': 'c'.repeat(64) } });
  o.tamper?.(r.attestationInfo);
  return { body: { AttestationInfo: b64u(JSON.stringify(r.attestationInfo)) }, key: r.encryptionKey };
}

async function refused(app: KeyApp['app'], body: unknown, status: number, code: string): Promise<ErrorBody['error']> {
  const res = await app.inject({ method: 'POST', url: GUEST_URL, payload: body as Record<string, unknown> });
  expect(res.statusCode, res.body).toBe(status);
  const error = res.json<ErrorBody>().error;
  expect(error.code).toBe(code);
  return error;
}

describe('POST /attest/AzureGuest (trustSimulator on, the simulated vTPM CA trusted)', () => {
  let krs: KeyApp;
  beforeAll(async () => {
    krs = await keyApp({ config: { azureCvm: { complianceStatus: 'azure-compliant-cvm', akCertAnchorsFile: anchorsFile } } });
  });
  afterAll(async () => {
    await krs.close();
  });

  it("answers MAA's envelope: only the ephemeral key opens it, and the token inside verifies with /certs", async () => {
    const { body, key } = await guestBody();
    const res = await krs.app.inject({ method: 'POST', url: GUEST_URL, payload: body });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const envelope = res.json<{ token: string }>().token;
    expect(JSON.parse(Buffer.from(envelope, 'base64url').toString('utf8'))).toMatchObject({ EncryptionParams: { Cipher: 'AES', BlockMode: 'ChainingModeGCM', BlockPadding: 'PKCS7', KeySizeInBits: 256 } });
    const jwt = await openMaaToken(envelope, tpmRsaes(key));
    const { payload } = await jwtVerify(jwt, createLocalJWKSet((await krs.app.inject({ url: '/certs' })).json()), { issuer: ISSUER });
    expect(payload).toMatchObject({ 'x-ms-attestation-type': 'azurevm', secureboot: true, 'x-zt4ai-fresh': false, 'x-zt4ai-evidence': 'azure-guest', 'x-ms-ver': '1.0' });
    expect(payload['x-ms-isolation-tee']).toMatchObject({ 'x-ms-compliance-status': 'azure-compliant-cvm' });
    expect((payload['x-ms-runtime'] as Record<string, unknown>)['client-payload']).toEqual({ 'zt4ai-config': Buffer.from('c'.repeat(64)).toString('base64') });
    // Another key (another TPM) cannot open it.
    const other = await guestBody();
    await expect(openMaaToken(envelope, tpmRsaes(other.key))).rejects.toMatchObject({ code: 'ERR_MAA_ENVELOPE_DECRYPT' });
  });

  it("a Microsoft confidential-VM release policy releases the key wrapped to the vTPM's ephemeral key", async () => {
    const policy = policyData(ISSUER, [
      { claim: 'x-ms-attestation-type', equals: 'azurevm' },
      { claim: 'x-ms-isolation-tee.x-ms-attestation-type', equals: 'sevsnpvm' },
      { claim: 'x-ms-isolation-tee.x-ms-compliance-status', equals: 'azure-compliant-cvm' },
      { claim: 'secureboot', equals: true },
    ]);
    expect((await krs.call('POST', `/keys/guest-model/create${KV}`, exportableKey(policy))).statusCode).toBe(200);
    const { body, key } = await guestBody();
    const envelope = (await krs.app.inject({ method: 'POST', url: GUEST_URL, payload: body })).json<{ token: string }>().token;
    const target = await openMaaToken(envelope, tpmRsaes(key));
    const res = await krs.call('POST', `/keys/guest-model/release${KV}`, { target, nonce: 'n-guest', enc: 'RSA_AES_KEY_WRAP_256' });
    expect(res.statusCode, res.body).toBe(200);
    const jwk = key.export({ format: 'jwk' });
    const ca = (await krs.app.inject({ url: '/release-signer/ca' })).body;
    const opened = await openReleaseResponse(res.json<{ value: string }>(), {
      teePrivateKey: key,
      teePublicJwk: { kid: 'TpmEphemeralEncryptionKey', n: jwk.n!, e: jwk.e! },
      trustedRoots: [ca],
      expectedKid: `${ISSUER}/keys/guest-model`,
      expectedNonce: 'n-guest',
    });
    expect(opened.material).toHaveLength(32);
    expect(opened.enc).toBe('RSA_AES_KEY_WRAP_256');
  });

  it('takes a request with a TCG log far above the 64 KiB body limit of the other routes', async () => {
    const events = Array.from({ length: 400 }, (_, i) => ({ pcrIndex: 7, eventType: 0x800000e0, event: Buffer.alloc(1000, i) }));
    const r = await simulatedGuestRequest({ vtpm, akCa: ca, vcekChainPem: chainPem, bootEvents: [...defaultBootEvents(), ...events] });
    const body = { AttestationInfo: b64u(JSON.stringify(r.attestationInfo)) };
    expect(JSON.stringify(body).length).toBeGreaterThan(512 * 1024);
    const res = await krs.app.inject({ method: 'POST', url: GUEST_URL, payload: body });
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    expect(decodeJwt(await openMaaToken(res.json<{ token: string }>().token, tpmRsaes(r.encryptionKey)))).toMatchObject({ 'x-zt4ai-tcg-log-verified': true, secureboot: true });
  });

  it('refuses tampered evidence with ERR_AZURE_GUEST_REJECTED and every failed check', async () => {
    const tamper = (info: Record<string, unknown>) => {
      const tpm = info.TpmInfo as { PCRs: Array<{ Digest: string }> };
      tpm.PCRs[0]!.Digest = Buffer.alloc(32, 1).toString('base64');
    };
    const error = await refused(krs.app, (await guestBody({ tamper })).body, 403, 'ERR_AZURE_GUEST_REJECTED');
    expect(error.details?.map((d) => d.code)).toEqual(['ERR_TPM_PCR_DIGEST']);
  });

  it('answers request problems with 400s and their codes', async () => {
    await refused(krs.app, { AttestationInfo: b64u('{"TpmInfo": 1}') }, 400, 'ERR_AZURE_GUEST_MALFORMED');
    await refused(krs.app, (await guestBody({ tamper: (i) => { i.IsolationInfo = { Type: 'TrustedLaunch' }; } })).body, 400, 'ERR_AZURE_GUEST_ISOLATION');
    await refused(krs.app, (await guestBody({ tamper: (i) => { i.IsolationInfo = { Type: 'SevSnp', Evidence: { Proof: Buffer.from(JSON.stringify({ SnpReport: 'AA', VcekCertChain: Buffer.from('not a certificate').toString('base64') })).toString('base64'), RunTimeData: 'e30=' } }; } })).body, 400, 'ERR_INVALID_CVM_CERTIFICATES');
    await refused(krs.app, { AttestationInfo: 'x', extra: 1 }, 400, 'ERR_INVALID_REQUEST');
    const res = await krs.app.inject({ method: 'POST', url: '/attest/AzureGuest?api-version=1999-01-01', payload: (await guestBody()).body });
    expect(res.json<ErrorBody>().error.code).toBe('ERR_API_VERSION_UNSUPPORTED');
  });

  it('records issued and refused AzureGuest decisions in the audit log, never the token', async () => {
    const { body, key } = await guestBody();
    const envelope = (await krs.app.inject({ method: 'POST', url: GUEST_URL, payload: body })).json<{ token: string }>().token;
    const jwt = await openMaaToken(envelope, tpmRsaes(key));
    await refused(krs.app, (await guestBody({ tamper: (i) => { (i.TpmInfo as Record<string, unknown>).PcrSet = [0]; } })).body, 403, 'ERR_AZURE_GUEST_REJECTED');
    const entries = (await krs.call('GET', '/audit?kind=attestation&limit=1000')).json<{ value: AuditEntry[] }>().value;
    expect(entries.find((e) => e.details.jti === decodeJwt(jwt).jti)?.details).toMatchObject({ outcome: 'issued', evidence: 'azure-guest', simulated: true, fresh: false });
    expect(entries.some((e) => e.details.outcome === 'rejected' && e.details.evidence === 'azure-guest' && e.details.code === 'ERR_AZURE_GUEST_REJECTED')).toBe(true);
    expect(JSON.stringify(entries)).not.toContain(jwt.split('.')[1]!);
  });
});

describe('POST /attest/AzureGuest without the vTPM CA or the simulator trusted', () => {
  it('without AK certificate anchors: issued, the token says the AK certificate was not judged', async () => {
    const krs = await keyApp();
    try {
      const { body, key } = await guestBody();
      const res = await krs.app.inject({ method: 'POST', url: GUEST_URL, payload: body });
      expect(res.statusCode, res.body).toBe(200);
      const claims = decodeJwt(await openMaaToken(res.json<{ token: string }>().token, tpmRsaes(key)));
      expect(claims).toMatchObject({ 'x-zt4ai-ak-cert-verified': false });
      expect(claims['x-zt4ai-warnings']).toContain('WARN_AK_CERT_UNVERIFIED');
    } finally {
      await krs.close();
    }
  });

  it('refuses simulated evidence with ERR_SIMULATED_NOT_TRUSTED', async () => {
    const krs = await testApp();
    try {
      await refused(krs.app, (await guestBody()).body, 403, 'ERR_SIMULATED_NOT_TRUSTED');
    } finally {
      await krs.close();
    }
  });
});
