import { type KeyObject, constants, generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PSS_SALT_LENGTH } from '../../simulator/rsa-pss.js';
import { emsaPssEncode, fixtureRootKeys, signRsaPss } from '../../simulator/index.js';

const pssVerify = (key: KeyObject, data: Buffer, sig: Buffer): boolean =>
  verify('sha384', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: PSS_SALT_LENGTH }, sig);

describe('RSASSA-PSS with a chosen salt', () => {
  const message = Buffer.from('tbsCertificate bytes');
  const salt = Buffer.alloc(48, 7);

  it('verifies with node:crypto PSS (SHA-384, MGF1-SHA-384, salt 48) and is deterministic', () => {
    const { ark } = fixtureRootKeys('Milan');
    const a = signRsaPss(ark, message, salt);
    expect(a).toEqual(signRsaPss(ark, message, salt));
    expect(pssVerify(ark, message, a)).toBe(true);
    expect(pssVerify(ark, Buffer.from('other'), a)).toBe(false);
    expect(signRsaPss(ark, message, Buffer.alloc(48, 8))).not.toEqual(a);
  });

  it('works for 3072-bit keys and the random-salt path verifies too', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 3072 });
    expect(pssVerify(privateKey, message, signRsaPss(privateKey, message, salt))).toBe(true);
    const r1 = signRsaPss(privateKey, message);
    expect(pssVerify(privateKey, message, r1)).toBe(true);
    expect(signRsaPss(privateKey, message)).not.toEqual(r1);
  });

  it('clears the top bit and ends with 0xbc', () => {
    const em = emsaPssEncode(message, salt, 2048);
    expect(em.length).toBe(256);
    expect(em[0]! & 0x80).toBe(0);
    expect(em[255]).toBe(0xbc);
    expect(() => signRsaPss(fixtureRootKeys('Milan').ark, message, Buffer.alloc(32))).toThrow(RangeError);
  });
});
