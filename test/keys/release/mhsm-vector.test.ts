import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openReleaseResponse } from '../../../keys/release/open-response.js';
import { chainToPem } from '../../../keys/release/signer.js';
import { verifyReleaseResponse } from '../../../keys/release/verify-response.js';
import { HAS_SHARED, sharedFile } from '../../helpers/shared.js';

/** DigiCert Global Root G2, SHA-256 fingerprint as DigiCert publishes it. */
const DIGICERT_GLOBAL_ROOT_G2 = 'CB:3C:CB:B7:60:31:E5:E0:13:8F:8D:D3:9A:23:F9:DE:47:FF:C3:5E:43:C1:14:4C:EA:27:D4:6A:5A:B1:CB:5F';
/** Inside the leaf's validity (2022-05-25 .. 2023-05-20). */
const BEFORE_EXPIRY = new Date('2023-01-15T00:00:00Z');
const HSM = 'https://timovkeyvaulthsm.managedhsm.azure.net';

function vector(): { value: string } {
  return JSON.parse(sharedFile('vectors/azure/akv-skr/mhsm_release_response.json').toString('utf8')) as { value: string };
}

function header(jws: string): { x5c: string[] } {
  return JSON.parse(Buffer.from(jws.split('.')[0]!, 'base64url').toString()) as { x5c: string[] };
}

describe.skipIf(!HAS_SHARED)('release response: the real Managed HSM vector', () => {
  it('parses and verifies at a fixed clock: RS256 with x5c[0], kid = x5t#S256, chain to DigiCert Global Root G2', async () => {
    const v = await verifyReleaseResponse(vector(), { pinnedCertificates: [DIGICERT_GLOBAL_ROOT_G2], now: BEFORE_EXPIRY, expectedHost: 'timovkeyvaulthsm.managedhsm.azure.net', expectedKid: `${HSM}/keys/exportkey-68488` });
    expect(v.signer.subject).toContain('CN=*.timovkeyvaulthsm.managedhsm.azure.net');
    expect(v.payload.request).toEqual({ 'api-version': '7.3', enc: 'CKM_RSA_AES_KEY_WRAP', kid: `${HSM}/keys/exportkey-68488` });
    expect(v.payload.response.key.attributes).toEqual({ created: 1653692560, enabled: true, exportable: true, recoverableDays: 7, recoveryLevel: 'CustomizedRecoverable+Purgeable', updated: 1653692560 });
    expect(v.payload.response.key.key).toMatchObject({ kty: 'RSA', key_ops: ['encrypt', 'decrypt'], kid: `${HSM}/keys/exportkey-68488/d07e761c31c24e6b945882cf7ce31729`, e: 'AQAB' });
    expect(v.keyHsm.header).toEqual({ alg: 'dir', enc: 'CKM_RSA_AES_KEY_WRAP', kid: 'fake-release-key' });
    expect(v.keyHsm.ciphertext).toHaveLength(1488);
    expect(JSON.parse(Buffer.from(v.payload.response.key.release_policy!.data, 'base64url').toString())).toEqual({
      anyOf: [{ allOf: [{ claim: 'sdk-test', equals: 'true' }], authority: 'https://timovkeyvaultsite.azurewebsites.net/' }],
      version: '1.0.0',
    });
  });

  it('also verifies with the root given as a trusted PEM, or with the intermediate pinned', async () => {
    const x5c = header(vector().value).x5c;
    const root = chainToPem([Buffer.from(x5c[2]!, 'base64')]);
    await expect(verifyReleaseResponse(vector(), { trustedRoots: [root], now: BEFORE_EXPIRY })).resolves.toBeTruthy();
    const intermediate = '48:FF:8B:49:46:68:C7:52:30:4B:48:BF:E8:18:75:89:87:DE:F6:58:2E:5F:09:B9:21:F4:B6:0B:B3:D6:A8:DD';
    await expect(verifyReleaseResponse(vector(), { pinnedCertificates: [intermediate], now: BEFORE_EXPIRY })).resolves.toBeTruthy();
  });

  it('refuses it after the leaf expired, before it was valid, and without any trust anchor', async () => {
    const opts = { pinnedCertificates: [DIGICERT_GLOBAL_ROOT_G2] };
    await expect(verifyReleaseResponse(vector(), { ...opts, now: new Date('2023-05-21T00:00:00Z') })).rejects.toMatchObject({ code: 'ERR_RELEASE_CERT_EXPIRED' });
    await expect(verifyReleaseResponse(vector(), { ...opts, now: new Date('2022-05-01T00:00:00Z') })).rejects.toMatchObject({ code: 'ERR_RELEASE_CERT_NOT_YET_VALID' });
    await expect(verifyReleaseResponse(vector(), { now: BEFORE_EXPIRY })).rejects.toMatchObject({ code: 'ERR_RELEASE_NO_TRUST' });
    await expect(verifyReleaseResponse(vector(), { pinnedCertificates: ['00'.repeat(32)], now: BEFORE_EXPIRY })).rejects.toMatchObject({ code: 'ERR_RELEASE_UNTRUSTED' });
    await expect(verifyReleaseResponse(vector(), { ...opts, now: BEFORE_EXPIRY, expectedHost: 'evil.example.com' })).rejects.toMatchObject({ code: 'ERR_RELEASE_HOSTNAME' });
    await expect(verifyReleaseResponse(vector(), { ...opts, now: BEFORE_EXPIRY, expectedKid: `${HSM}/keys/other` })).rejects.toMatchObject({ code: 'ERR_RELEASE_KEY_ID' });
    await expect(verifyReleaseResponse(vector(), { ...opts, now: BEFORE_EXPIRY, expectedNonce: 'n1' })).rejects.toMatchObject({ code: 'ERR_RELEASE_NONCE' });
  });

  it('detects a changed payload, a changed kid, a reordered x5c and alg confusion', async () => {
    const opts = { pinnedCertificates: [DIGICERT_GLOBAL_ROOT_G2], now: BEFORE_EXPIRY };
    const [h, p, s] = vector().value.split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as { response: { key: { attributes: { exportable: boolean } } } };
    payload.response.key.attributes.exportable = false;
    const edited = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
    await expect(verifyReleaseResponse(edited, opts)).rejects.toMatchObject({ code: 'ERR_RELEASE_SIGNATURE' });
    const hdr = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown> & { x5c: string[] };
    const enc = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
    await expect(verifyReleaseResponse(`${enc({ ...hdr, kid: 'other' })}.${p}.${s}`, opts)).rejects.toMatchObject({ code: 'ERR_RELEASE_KID' });
    await expect(verifyReleaseResponse(`${enc({ ...hdr, 'x5t#S256': undefined })}.${p}.${s}`, opts)).rejects.toMatchObject({ code: 'ERR_RELEASE_KID' });
    await expect(verifyReleaseResponse(`${enc({ ...hdr, x5c: [hdr.x5c[1], hdr.x5c[0], hdr.x5c[2]] })}.${p}.${s}`, opts)).rejects.toMatchObject({ code: 'ERR_RELEASE_KID' });
    await expect(verifyReleaseResponse(`${enc({ ...hdr, x5c: [hdr.x5c[0], hdr.x5c[0], hdr.x5c[2]] })}.${p}.${s}`, opts)).rejects.toMatchObject({ code: 'ERR_RELEASE_CHAIN' });
    await expect(verifyReleaseResponse(`${enc({ ...hdr, x5c: [hdr.x5c[0]] })}.${p}.${s}`, opts)).rejects.toMatchObject({ code: 'ERR_RELEASE_UNTRUSTED' });
    await expect(verifyReleaseResponse(`${enc({ ...hdr, alg: 'HS256' })}.${p}.${s}`, opts)).rejects.toMatchObject({ code: 'ERR_RELEASE_ALG' });
    await expect(verifyReleaseResponse(`${enc({ ...hdr, alg: 'none' })}.${p}.`, opts)).rejects.toMatchObject({ code: 'ERR_RELEASE_ALG' });
    await expect(verifyReleaseResponse('a.b', opts)).rejects.toMatchObject({ code: 'ERR_RELEASE_MALFORMED' });
    await expect(verifyReleaseResponse({ value: 42 }, opts)).rejects.toMatchObject({ code: 'ERR_RELEASE_MALFORMED' });
  });

  it('refuses to open it with our own TEE key: the key is bound to the recording\'s "fake-release-key"', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const { n, e } = publicKey.export({ format: 'jwk' });
    await expect(
      openReleaseResponse(vector(), { pinnedCertificates: [DIGICERT_GLOBAL_ROOT_G2], now: BEFORE_EXPIRY, teePrivateKey: privateKey, teePublicJwk: { kid: 'my-tee-key', n: n!, e: e! } }),
    ).rejects.toMatchObject({ code: 'ERR_RELEASE_BINDING' });
  });
});
