import { type KeyObject, generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RELEASE_ENCS } from '../../../keys/wrap/enc.js';
import { parseKeyHsm, unwrapKeyHsm, wrapForRelease } from '../../../keys/wrap/key-hsm.js';
import type { TeeJwk } from '../../../keys/wrap/tee-key.js';
import { HAS_SHARED, sharedFile } from '../../helpers/shared.js';

interface UnwrapVector {
  enc: string;
  rsa_private_key_pkcs1_pem: string;
  ciphertext_b64url: string;
  expected_plaintext_hex: string;
  wrapping_jwks_runtime_data: { keys: TeeJwk[] };
}

/** A TEE key pair as the runner makes one: RSA, the public half as a JWK with kid and key_ops encrypt. */
function teeKey(bits = 2048, kid = 'tee-key-1'): { privateKey: KeyObject; jwk: TeeJwk } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const { n, e } = publicKey.export({ format: 'jwk' });
  return { privateKey, jwk: { kty: 'RSA', kid, n: n!, e: e!, key_ops: ['encrypt'] } };
}

function keyHsmOf(doc: unknown): string {
  return Buffer.from(JSON.stringify(doc)).toString('base64url');
}

describe.skipIf(!HAS_SHARED)('key_hsm: the real CKM_RSA_AES_KEY_WRAP vector (confidential-sidecar-containers)', () => {
  const v = JSON.parse(sharedFile('vectors/azure/akv-skr/ckm_rsa_aes_key_wrap_unwrap_vector.json').toString('utf8')) as UnwrapVector;

  it('unwraps to the expected plaintext', () => {
    const keyHsm = keyHsmOf({ ciphertext: v.ciphertext_b64url, header: { alg: 'dir', enc: v.enc, kid: 'any' }, schema_version: '1.0' });
    const { material, header } = unwrapKeyHsm(keyHsm, v.rsa_private_key_pkcs1_pem);
    expect(material.toString('hex')).toBe(v.expected_plaintext_hex);
    expect(header.enc).toBe('CKM_RSA_AES_KEY_WRAP');
  });

  it('wraps to the vector\'s runtime JWK so that its private key opens it, for every enc', () => {
    const jwk = v.wrapping_jwks_runtime_data.keys[0]!;
    const plain = Buffer.from(v.expected_plaintext_hex, 'hex');
    for (const enc of RELEASE_ENCS) {
      const keyHsm = wrapForRelease(plain, jwk, enc);
      expect(parseKeyHsm(keyHsm).header).toEqual({ alg: 'dir', enc, kid: jwk.kid });
      expect(unwrapKeyHsm(keyHsm, v.rsa_private_key_pkcs1_pem).material.equals(plain)).toBe(true);
    }
  });

  it('fails with the wrong OAEP hash (enc) and with a changed wrapped-material byte', () => {
    const ct = Buffer.from(v.ciphertext_b64url, 'base64url');
    const wrongEnc = keyHsmOf({ ciphertext: v.ciphertext_b64url, header: { alg: 'dir', enc: 'RSA_AES_KEY_WRAP_256', kid: 'x' }, schema_version: '1.0' });
    expect(() => unwrapKeyHsm(wrongEnc, v.rsa_private_key_pkcs1_pem)).toThrow(expect.objectContaining({ code: 'ERR_WRAP_DECRYPT' }));
    ct[ct.length - 1]! ^= 1;
    const changed = keyHsmOf({ ciphertext: ct.toString('base64url'), header: { alg: 'dir', enc: v.enc, kid: 'x' }, schema_version: '1.0' });
    expect(() => unwrapKeyHsm(changed, v.rsa_private_key_pkcs1_pem)).toThrow(expect.objectContaining({ code: 'ERR_WRAP_INTEGRITY' }));
  });
});

describe('key_hsm: wrapping to fresh TEE keys', () => {
  const tee = teeKey();

  it('has Key Vault\'s layout: RSA-OAEP block of the modulus size, then AES-KWP of the material', () => {
    const keyHsm = wrapForRelease(Buffer.alloc(1218, 7), tee.jwk, 'RSA_AES_KEY_WRAP_384');
    const doc = JSON.parse(Buffer.from(keyHsm, 'base64url').toString()) as { ciphertext: string; header: unknown; schema_version: string };
    expect(Object.keys(doc)).toEqual(['ciphertext', 'header', 'schema_version']);
    expect(doc.schema_version).toBe('1.0');
    // 256 bytes of OAEP for RSA-2048, then KWP: the material padded to 8 bytes plus the 8-byte integrity block.
    expect(Buffer.from(doc.ciphertext, 'base64url')).toHaveLength(256 + 1224 + 8);
  });

  it('round-trips any material of 1..2048 bytes for every enc (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 2048 }), fc.constantFrom(...RELEASE_ENCS), (bytes, enc) => {
        const { material } = unwrapKeyHsm(wrapForRelease(bytes, tee.jwk, enc), tee.privateKey);
        return material.equals(Buffer.from(bytes));
      }),
      { numRuns: 40 },
    );
  });

  it('works with 3072- and 4096-bit TEE keys and with the private key as PEM or JWK', () => {
    for (const bits of [3072, 4096]) {
      const k = teeKey(bits);
      const keyHsm = wrapForRelease(Buffer.from('abc'), k.jwk, 'RSA_AES_KEY_WRAP_256');
      expect(unwrapKeyHsm(keyHsm, k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()).material.toString()).toBe('abc');
      expect(unwrapKeyHsm(keyHsm, k.privateKey.export({ format: 'jwk' })).material.toString()).toBe('abc');
    }
  });

  it('refuses unacceptable TEE keys with codes', () => {
    const small = teeKey(1024).jwk;
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
    const cases: Array<[unknown, string]> = [
      [small, 'ERR_WRAP_TEE_KEY_SIZE'],
      [{ ...ec, kid: 'ec' }, 'ERR_WRAP_TEE_KEY'],
      [{ ...tee.jwk, kid: undefined }, 'ERR_WRAP_TEE_KEY'],
      [{ ...tee.jwk, key_ops: ['verify'] }, 'ERR_WRAP_TEE_KEY_OPS'],
      [{ ...tee.jwk, use: 'sig' }, 'ERR_WRAP_TEE_KEY_OPS'],
      [{ ...tee.jwk, d: 'AAAA' }, 'ERR_WRAP_TEE_KEY'],
      [{ ...tee.jwk, n: 'AAAA' }, 'ERR_WRAP_TEE_KEY_SIZE'],
      [null, 'ERR_WRAP_TEE_KEY'],
    ];
    for (const [jwk, code] of cases) expect(() => wrapForRelease(Buffer.from('k'), jwk as TeeJwk), JSON.stringify(jwk)?.slice(0, 60)).toThrow(expect.objectContaining({ code }));
    const { key_ops: _, ...noOps } = tee.jwk;
    expect(unwrapKeyHsm(wrapForRelease(Buffer.from('k'), noOps), tee.privateKey).material.toString()).toBe('k');
    expect(() => wrapForRelease(Buffer.alloc(0), tee.jwk)).toThrow(expect.objectContaining({ code: 'ERR_WRAP_MATERIAL' }));
    expect(() => wrapForRelease(Buffer.from('k'), tee.jwk, 'A256KW' as 'CKM_RSA_AES_KEY_WRAP')).toThrow(expect.objectContaining({ code: 'ERR_WRAP_ENC' }));
  });

  it('refuses malformed key_hsm documents and another TEE key', () => {
    const good = JSON.parse(Buffer.from(wrapForRelease(Buffer.from('k'), tee.jwk), 'base64url').toString()) as Record<string, unknown>;
    const bad = [
      'not base64url!',
      keyHsmOf([1]),
      keyHsmOf({ ...good, schema_version: '2.0' }),
      keyHsmOf({ ...good, header: { alg: 'RSA-OAEP', enc: 'CKM_RSA_AES_KEY_WRAP', kid: 'x' } }),
      keyHsmOf({ ...good, header: { alg: 'dir', enc: 'A256GCM', kid: 'x' } }),
      keyHsmOf({ ...good, ciphertext: 42 }),
    ];
    for (const k of bad) expect(() => parseKeyHsm(k)).toThrow(expect.objectContaining({ code: 'ERR_WRAP_KEY_HSM' }));
    expect(() => unwrapKeyHsm(keyHsmOf({ ...good, ciphertext: 'AAAA' }), tee.privateKey)).toThrow(expect.objectContaining({ code: 'ERR_WRAP_KEY_HSM' }));
    expect(() => unwrapKeyHsm(keyHsmOf(good), teeKey().privateKey)).toThrow(expect.objectContaining({ code: 'ERR_WRAP_DECRYPT' }));
  });
});
