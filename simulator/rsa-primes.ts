import { type KeyObject, createPrivateKey } from 'node:crypto';

/**
 * RSA private keys stored as their two primes, which is all a key needs and half the size of a PEM; the
 * committed fixture roots use this form to stay a few KB.
 */
export interface RsaPrimes {
  /** Big-endian, base64url (JWK encoding). */
  readonly p: string;
  readonly q: string;
}

const E = 65537n;

function toBigInt(b64url: string): bigint {
  return BigInt(`0x${Buffer.from(b64url, 'base64url').toString('hex') || '0'}`);
}

function toB64url(n: bigint): string {
  const hex = n.toString(16);
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex').toString('base64url');
}

function modInverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [((a % m) + m) % m, m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  if (oldR !== 1n) throw new RangeError('not invertible');
  return ((oldS % m) + m) % m;
}

/** Rebuilds the private key (public exponent 65537) from its primes. */
export function rsaKeyFromPrimes(primes: RsaPrimes): KeyObject {
  const p = toBigInt(primes.p);
  const q = toBigInt(primes.q);
  const d = modInverse(E, (p - 1n) * (q - 1n));
  const jwk = {
    kty: 'RSA',
    n: toB64url(p * q),
    e: toB64url(E),
    d: toB64url(d),
    p: primes.p,
    q: primes.q,
    dp: toB64url(d % (p - 1n)),
    dq: toB64url(d % (q - 1n)),
    qi: toB64url(modInverse(q, p)),
  };
  return createPrivateKey({ key: jwk, format: 'jwk' });
}

/** The primes of an RSA private key (for the fixture generator). */
export function rsaPrimesOf(key: KeyObject): RsaPrimes {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty !== 'RSA' || typeof jwk.p !== 'string' || typeof jwk.q !== 'string' || jwk.e !== 'AQAB') {
    throw new TypeError('expected an RSA private key with public exponent 65537');
  }
  return { p: jwk.p, q: jwk.q };
}
