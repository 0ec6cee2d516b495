import { type KeyObject, constants, createHash, privateEncrypt, sign } from 'node:crypto';

/** AMD signs every certificate RSASSA-PSS with SHA-384, MGF1-SHA-384 and a 48-byte salt. */
const HASH = 'sha384';
const H_LEN = 48;
export const PSS_SALT_LENGTH = 48;

function sha384(...parts: Uint8Array[]): Buffer {
  const h = createHash(HASH);
  for (const p of parts) h.update(p);
  return h.digest();
}

function mgf1(seed: Uint8Array, length: number): Buffer {
  const blocks: Buffer[] = [];
  for (let counter = 0; blocks.length * H_LEN < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    blocks.push(sha384(seed, c));
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** EMSA-PSS-ENCODE (RFC 8017 §9.1.1) with SHA-384/MGF1-SHA-384 and the caller's salt. */
export function emsaPssEncode(message: Uint8Array, salt: Uint8Array, modulusBits: number): Buffer {
  const emBits = modulusBits - 1;
  const emLen = Math.ceil(emBits / 8);
  if (emLen < H_LEN + salt.length + 2) throw new RangeError(`RSA modulus of ${modulusBits} bits is too small for PSS-SHA384`);
  const mPrime = Buffer.concat([Buffer.alloc(8), sha384(message), salt]);
  const h = sha384(mPrime);
  const db = Buffer.concat([Buffer.alloc(emLen - salt.length - H_LEN - 2), Buffer.from([0x01]), salt]);
  const maskedDb = mgf1(h, db.length);
  for (let i = 0; i < db.length; i++) maskedDb[i]! ^= db[i]!;
  maskedDb[0]! &= 0xff >>> (8 * emLen - emBits);
  return Buffer.concat([maskedDb, h, Buffer.from([0xbc])]);
}

/**
 * RSASSA-PSS SHA-384 signature. With a `salt` the signature is a pure function of key, message and salt
 * (for seeded fixtures): node's PSS padding draws a random salt, so the encoding is done here and only the
 * raw RSA operation is left to node. Without one, node signs with a fresh random salt.
 */
export function signRsaPss(key: KeyObject, message: Uint8Array, salt?: Uint8Array): Buffer {
  if (salt === undefined) {
    return sign(HASH, message, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: PSS_SALT_LENGTH });
  }
  if (salt.length !== PSS_SALT_LENGTH) throw new RangeError(`PSS salt must be ${PSS_SALT_LENGTH} bytes`);
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (key.asymmetricKeyType !== 'rsa' || bits === undefined) throw new TypeError('RSASSA-PSS needs an RSA private key');
  const em = emsaPssEncode(message, salt, bits);
  const k = Math.ceil(bits / 8);
  const block = Buffer.concat([Buffer.alloc(k - em.length), em]);
  return privateEncrypt({ key, padding: constants.RSA_NO_PADDING }, block);
}
