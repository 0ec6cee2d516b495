import { constants, generateKeyPairSync, privateDecrypt, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type TeeDecryptor, unwrapKeyHsmWith, wrapForRelease } from '../../../keys/wrap/key-hsm.js';
import { openMaaToken, sealMaaToken } from '../../../keys/wrap/maa-envelope.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

/** RSAES-PKCS1-v1_5 as the vTPM decrypts (node no longer does it for private keys). Test-only. */
const rsaes = async (ct: Buffer): Promise<Buffer> => {
  const em = privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, ct);
  return em.subarray(em.indexOf(0, 2) + 1);
};
const edit = (token: string, f: (doc: Record<string, unknown>) => void): string => {
  const doc = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Record<string, unknown>;
  f(doc);
  return Buffer.from(JSON.stringify(doc)).toString('base64url');
};

describe("MAA's AzureGuest envelope", () => {
  it('round-trips: AES-256-GCM under a key RSAES-encrypted to the TPM key', async () => {
    const token = sealMaaToken('a.b.c', publicKey);
    expect(await openMaaToken(token, rsaes)).toBe('a.b.c');
  });

  it('an altered ciphertext, tag or AAD-less answer fails the GCM check (ERR_MAA_ENVELOPE_DECRYPT)', async () => {
    const token = sealMaaToken('a.b.c', publicKey);
    const flip = (field: string) => edit(token, (d) => { d[field] = Buffer.from(Buffer.from(d[field] as string, 'base64').map((b, i) => (i === 0 ? b ^ 1 : b))).toString('base64'); });
    await expect(openMaaToken(flip('Jwt'), rsaes)).rejects.toMatchObject({ code: 'ERR_MAA_ENVELOPE_DECRYPT' });
    await expect(openMaaToken(flip('AuthenticationData'), rsaes)).rejects.toMatchObject({ code: 'ERR_MAA_ENVELOPE_DECRYPT' });
    await expect(openMaaToken(token, async () => randomBytes(32))).rejects.toMatchObject({ code: 'ERR_MAA_ENVELOPE_DECRYPT' });
    await expect(openMaaToken(token, async () => randomBytes(16))).rejects.toMatchObject({ code: 'ERR_MAA_ENVELOPE_DECRYPT' });
    await expect(openMaaToken(token, async () => Promise.reject(new Error('TPM_RC_POLICY_FAIL')))).rejects.toMatchObject({ code: 'ERR_MAA_ENVELOPE_DECRYPT', message: expect.stringContaining('TPM_RC_POLICY_FAIL') });
  });

  it('refuses other ciphers and malformed answers with their codes', async () => {
    const token = sealMaaToken('a.b.c', publicKey);
    await expect(openMaaToken(edit(token, (d) => { (d.EncryptionParams as Record<string, unknown>).BlockMode = 'ChainingModeCBC'; }), rsaes)).rejects.toMatchObject({ code: 'ERR_MAA_ENVELOPE_PARAMS' });
    await expect(openMaaToken(edit(token, (d) => void delete d.Jwt), rsaes)).rejects.toMatchObject({ code: 'ERR_MAA_ENVELOPE' });
    await expect(openMaaToken('not base64url!', rsaes)).rejects.toMatchObject({ code: 'ERR_MAA_ENVELOPE' });
    await expect(openMaaToken(Buffer.from('[]').toString('base64url'), rsaes)).rejects.toMatchObject({ code: 'ERR_MAA_ENVELOPE' });
  });
});

describe('unwrapKeyHsmWith: a release unwrapped by a TEE key that stays in its TPM', () => {
  const tpm = (hash: 'sha256'): TeeDecryptor => ({ modulusBytes: 256, decrypt: async (ct) => privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, ct) });
  const { n, e } = publicKey.export({ format: 'jwk' });
  const jwk = { kty: 'RSA' as const, n: n!, e: e!, kid: 'TpmEphemeralEncryptionKey', key_ops: ['encrypt'] };

  it('RSA-OAEP by the TPM, AES key unwrap here, gives the material back', async () => {
    const material = randomBytes(32);
    const { material: out, header } = await unwrapKeyHsmWith(wrapForRelease(material, jwk, 'RSA_AES_KEY_WRAP_256'), tpm('sha256'));
    expect(out.equals(material)).toBe(true);
    expect(header.kid).toBe('TpmEphemeralEncryptionKey');
  });

  it("a TPM that cannot decrypt (another key, another PCR state) is ERR_WRAP_DECRYPT with the TPM's reason as cause", async () => {
    const failing: TeeDecryptor = { modulusBytes: 256, decrypt: async () => Promise.reject(new Error('TPM_RC_POLICY_FAIL')) };
    await expect(unwrapKeyHsmWith(wrapForRelease(randomBytes(32), jwk, 'RSA_AES_KEY_WRAP_256'), failing)).rejects.toMatchObject({ code: 'ERR_WRAP_DECRYPT' });
  });

  it('a transient key of the wrong size, or a ciphertext that does not fit the modulus, is refused', async () => {
    const wrong: TeeDecryptor = { modulusBytes: 256, decrypt: async () => randomBytes(7) };
    await expect(unwrapKeyHsmWith(wrapForRelease(randomBytes(32), jwk, 'RSA_AES_KEY_WRAP_256'), wrong)).rejects.toMatchObject({ code: 'ERR_WRAP_DECRYPT' });
    await expect(unwrapKeyHsmWith(wrapForRelease(randomBytes(32), jwk, 'RSA_AES_KEY_WRAP_256'), { ...tpm('sha256'), modulusBytes: 384 })).rejects.toMatchObject({ code: 'ERR_WRAP_KEY_HSM' });
  });
});
