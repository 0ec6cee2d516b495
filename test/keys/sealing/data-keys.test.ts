import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { directKeyUnwrapper, generateDataKey, rsaOaepUnwrapper, rsaOaepWrapper, rsaThumbprint } from '../../../keys/sealing/data-keys.js';
import { codeOf, rsaPair } from './helpers.js';

describe('data keys: RSA-OAEP-256 wrapping and dir keys', () => {
  it('wraps under a PEM or JWK public key and unwraps with the PEM or JWK private key', async () => {
    const p = rsaPair();
    const jwk = createPublicKey(p.publicPem).export({ format: 'jwk' });
    const dk = generateDataKey();
    for (const w of [rsaOaepWrapper(p.publicPem), rsaOaepWrapper(jwk), rsaOaepWrapper(JSON.stringify(jwk))]) {
      expect(w.kid).toBe(`rsa-jwk-thumbprint:${rsaThumbprint(createPublicKey(p.publicPem))}`);
      const wrapped = await w.wrap(dk);
      expect(wrapped.length).toBe(384);
      expect((await rsaOaepUnwrapper(p.privatePem).unwrap({ kid: w.kid, wrap: 'RSA-OAEP-256', wrappedKey: wrapped })).equals(dk)).toBe(true);
    }
  });

  it('refuses small RSA keys, EC keys, garbage, and foreign kids', async () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    expect(await codeOf(async () => rsaOaepWrapper(small))).toBe('ERR_KEY_UNSUPPORTED');
    expect(await codeOf(async () => rsaOaepWrapper(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey))).toBe('ERR_KEY_UNSUPPORTED');
    expect(await codeOf(async () => rsaOaepWrapper('not a key'))).toBe('ERR_KEY_INVALID');
    const p = rsaPair();
    const wrapped = await rsaOaepWrapper(p.publicPem, 'a').wrap(generateDataKey());
    expect(await codeOf(() => rsaOaepUnwrapper(p.privatePem, 'b').unwrap({ kid: 'a', wrap: 'RSA-OAEP-256', wrappedKey: wrapped }))).toBe('ERR_KEY_NOT_AVAILABLE');
    expect(await codeOf(() => rsaOaepUnwrapper(p.privatePem).unwrap({ kid: 'a', wrap: 'dir' }))).toBe('ERR_KEY_NOT_AVAILABLE');
    expect(await codeOf(() => rsaOaepUnwrapper(p.privatePem).unwrap({ kid: 'a', wrap: 'RSA-OAEP-256', wrappedKey: Buffer.alloc(384, 1) }))).toBe('ERR_KEY_UNWRAP');
  });

  it('dir keys are looked up by kid and copied', async () => {
    const dk = generateDataKey();
    const u = directKeyUnwrapper({ 'krs:k1': dk });
    const got = await u.unwrap({ kid: 'krs:k1', wrap: 'dir' });
    expect(got.equals(dk)).toBe(true);
    got.fill(0);
    expect(dk.equals(Buffer.alloc(32))).toBe(false);
    expect(await codeOf(() => u.unwrap({ kid: 'other', wrap: 'dir' }))).toBe('ERR_KEY_NOT_AVAILABLE');
    expect(await codeOf(() => directKeyUnwrapper({ short: Buffer.alloc(16) }).unwrap({ kid: 'short', wrap: 'dir' }))).toBe('ERR_KEY_DATA_KEY');
  });
});
