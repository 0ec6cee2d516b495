import { type KeyObject, createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { KeyError } from '../errors.js';

/** ECDSA curves OMS accepts, each with the hash the reference ties to it. */
const CURVES = {
  prime256v1: { name: 'P-256', hash: 'sha256', keyDetails: 'PKIX_ECDSA_P256_SHA_256' },
  secp384r1: { name: 'P-384', hash: 'sha384', keyDetails: 'PKIX_ECDSA_P384_SHA_384' },
  secp521r1: { name: 'P-521', hash: 'sha512', keyDetails: 'PKIX_ECDSA_P521_SHA_512' },
} as const;

export type CurveInfo = (typeof CURVES)[keyof typeof CURVES];

/** The curve of an EC key and its hash; P-521 only verifies (we sign with P-256 or P-384). */
export function curveOf(key: KeyObject): CurveInfo {
  const curve = key.asymmetricKeyType === 'ec' ? key.asymmetricKeyDetails?.namedCurve : undefined;
  const info = curve === undefined ? undefined : CURVES[curve as keyof typeof CURVES];
  if (!info) throw new KeyError('ERR_KEY_UNSUPPORTED', `key is ${key.asymmetricKeyType ?? 'unknown'} ${curve ?? ''}; OMS signatures need ECDSA P-256, P-384 or P-521`);
  return info;
}

/** The first PEM block of a kind in a text (tools like certtool print prose before it). */
export function pemBlock(text: string, label: string): string | undefined {
  const begin = `-----BEGIN ${label}-----`;
  const end = `-----END ${label}-----`;
  const i = text.indexOf(begin);
  const j = i < 0 ? -1 : text.indexOf(end, i);
  return j < 0 ? undefined : text.slice(i, j + end.length);
}

/** Loads an EC private key (PEM: PKCS#8 or SEC1) for signing: P-256 or P-384 only. */
export function loadSigningKey(pem: string | Buffer): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (cause) {
    throw new KeyError('ERR_KEY_INVALID', 'the signing key is not a PEM private key', { cause });
  }
  const info = curveOf(key);
  if (info.name === 'P-521') throw new KeyError('ERR_KEY_UNSUPPORTED', 'sign with P-256 (verifiable by @sigstore/verify too) or P-384');
  return key;
}

/** Loads a public key from PEM text (prose around the block is tolerated), a public or a private key. */
export function loadVerifyKey(input: string | Buffer | KeyObject): KeyObject {
  if (typeof input !== 'string' && !Buffer.isBuffer(input)) return input.type === 'private' ? createPublicKey(input) : input;
  const text = input.toString();
  const block = pemBlock(text, 'PUBLIC KEY');
  try {
    if (block) return createPublicKey(block);
    return createPublicKey(createPrivateKey(text));
  } catch (cause) {
    throw new KeyError('ERR_KEY_INVALID', 'the verification key is not a PEM public key', { cause });
  }
}

/** The SPKI PEM text as the reference writes it (64-column base64, trailing newline). */
export function publicKeyPem(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ type: 'spki', format: 'pem' }).toString();
}

/** `publicKey.hint` of model_signing >= 1.1: hex SHA-256 of the SPKI PEM text. */
export function keyHint(key: KeyObject): string {
  return createHash('sha256').update(publicKeyPem(key)).digest('hex');
}

/** The Sigstore `keyDetails` name of a key. */
export function keyDetailsOf(key: KeyObject): string {
  return curveOf(key).keyDetails;
}
