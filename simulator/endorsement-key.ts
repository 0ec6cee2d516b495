import { type KeyObject, createECDH, createPrivateKey, createPublicKey, hkdfSync } from 'node:crypto';

/** A VCEK/VLEK key pair. `scalar` (48 bytes, big-endian) feeds deterministic RFC 6979 signing. */
export interface EndorsementKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly scalar: Buffer;
}

const P384_ORDER = 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n;

/**
 * Derives a P-384 key from a root secret and a context, the way AMD's firmware derives the VCEK from chip
 * secrets and the TCB: the same chip and TCB always give the same key, a new TCB gives a new one. The
 * scalar is HKDF-SHA384 output, redrawn with a counter in the (2^-190) case it is not in 1..n-1.
 */
export function deriveP384Key(secret: Uint8Array, context: Uint8Array): EndorsementKey {
  for (let counter = 0; ; counter++) {
    const info = Buffer.concat([Buffer.from(context), Buffer.from([counter])]);
    const scalar = Buffer.from(hkdfSync('sha384', secret, 'zt4ai-sim endorsement key', info, 48));
    const n = BigInt(`0x${scalar.toString('hex')}`);
    if (n > 0n && n < P384_ORDER) return p384KeyFromScalar(scalar);
  }
}

export function p384KeyFromScalar(scalar: Buffer): EndorsementKey {
  const ecdh = createECDH('secp384r1');
  ecdh.setPrivateKey(scalar);
  const point = ecdh.getPublicKey();
  const jwk = {
    kty: 'EC',
    crv: 'P-384',
    d: scalar.toString('base64url'),
    x: point.subarray(1, 49).toString('base64url'),
    y: point.subarray(49, 97).toString('base64url'),
  };
  const privateKey = createPrivateKey({ key: jwk, format: 'jwk' });
  return { privateKey, publicKey: createPublicKey(privateKey), scalar };
}
