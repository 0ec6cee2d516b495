import { type JsonWebKey, type KeyObject, constants, createHash, createPrivateKey, createPublicKey, privateDecrypt, publicEncrypt, randomBytes } from 'node:crypto';
import { KeyError } from '../errors.js';
import { DATA_KEY_LENGTH } from './format.js';
import type { WrapAlgorithm } from './meta.js';

/** Where a container's data key comes from, as its header says. */
export interface KeyReference {
  readonly kid: string;
  readonly wrap: WrapAlgorithm;
  /** RSA-OAEP-256 ciphertext (wrap = RSA-OAEP-256). */
  readonly wrappedKey?: Buffer;
}

/**
 * Wraps a model's data key for storage in the headers. The local implementation encrypts to an RSA public
 * key; a KRS or Key Vault client implements the same interface with the public part it fetched.
 */
export interface DataKeyWrapper {
  readonly kid: string;
  readonly alg: 'RSA-OAEP-256';
  wrap(dataKey: Uint8Array): Promise<Buffer>;
}

/**
 * Returns the data key for a container: unwraps it (RSA-OAEP-256) or fetches it by kid (`dir`: an `oct`
 * key held by a key service). The caller owns and wipes the returned buffer.
 */
export interface DataKeyUnwrapper {
  unwrap(ref: KeyReference): Promise<Buffer>;
}

const OAEP = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' } as const;
const MIN_RSA_BITS = 2048;

/** 32 fresh random bytes: one data key per model (version). */
export function generateDataKey(): Buffer {
  return randomBytes(DATA_KEY_LENGTH);
}

/** Loads an RSA public key from PEM, JWK (object or JSON text) or a KeyObject; at least 2048 bits. */
export function loadRsaPublicKey(input: string | Buffer | JsonWebKey | KeyObject): KeyObject {
  const key = loadKey(input, 'public');
  return checkRsa(key.type === 'private' ? createPublicKey(key) : key);
}

/** Loads an RSA private key from PEM, JWK or a KeyObject. */
export function loadRsaPrivateKey(input: string | Buffer | JsonWebKey | KeyObject): KeyObject {
  const key = loadKey(input, 'private');
  if (key.type !== 'private') throw new KeyError('ERR_KEY_INVALID', 'unwrapping needs the RSA private key');
  return checkRsa(key);
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url) of an RSA key: the default kid of a local wrapping key. */
export function rsaThumbprint(key: KeyObject): string {
  const jwk = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'jwk' });
  return createHash('sha256').update(JSON.stringify({ e: jwk.e, kty: 'RSA', n: jwk.n })).digest('base64url');
}

/** Local RSA-OAEP-256 wrapping under a public key (what the KRS / Key Vault will hand out later). */
export function rsaOaepWrapper(publicKey: string | Buffer | JsonWebKey | KeyObject, kid?: string): DataKeyWrapper {
  const key = loadRsaPublicKey(publicKey);
  return {
    kid: kid ?? `rsa-jwk-thumbprint:${rsaThumbprint(key)}`,
    alg: 'RSA-OAEP-256',
    wrap: async (dataKey) => publicEncrypt({ key, ...OAEP }, dataKey),
  };
}

/** Local RSA-OAEP-256 unwrapping with the private key; with `kid`, other key references are refused. */
export function rsaOaepUnwrapper(privateKey: string | Buffer | JsonWebKey | KeyObject, kid?: string): DataKeyUnwrapper {
  const key = loadRsaPrivateKey(privateKey);
  return {
    unwrap: async (ref) => {
      if (ref.wrap !== 'RSA-OAEP-256' || !ref.wrappedKey) throw new KeyError('ERR_KEY_NOT_AVAILABLE', `container key ${ref.kid} is held by a key service (wrap ${ref.wrap}), not wrapped to an RSA key`);
      if (kid !== undefined && ref.kid !== kid) throw new KeyError('ERR_KEY_NOT_AVAILABLE', `container key reference ${ref.kid} is not ${kid}`);
      let dk: Buffer;
      try {
        dk = privateDecrypt({ key, ...OAEP }, ref.wrappedKey);
      } catch (cause) {
        throw new KeyError('ERR_KEY_UNWRAP', `the data key of ${ref.kid} does not unwrap with this RSA key`, { cause });
      }
      if (dk.length !== DATA_KEY_LENGTH) throw new KeyError('ERR_KEY_DATA_KEY', `unwrapped data key is ${dk.length} bytes, expected ${DATA_KEY_LENGTH}`);
      return dk;
    },
  };
}

/**
 * `dir` keys: data keys held by a key service as `oct` keys and named by kid (here a local map; the KRS
 * client will implement DataKeyUnwrapper by releasing the key). Copies are returned, the map is kept.
 */
export function directKeyUnwrapper(keys: ReadonlyMap<string, Uint8Array> | Record<string, Uint8Array>): DataKeyUnwrapper {
  const map = keys instanceof Map ? keys : new Map(Object.entries(keys));
  return {
    unwrap: async (ref) => {
      const k = map.get(ref.kid);
      if (!k) throw new KeyError('ERR_KEY_NOT_AVAILABLE', `no data key is held for kid ${ref.kid}`);
      if (k.length !== DATA_KEY_LENGTH) throw new KeyError('ERR_KEY_DATA_KEY', `data key ${ref.kid} is ${k.length} bytes, expected ${DATA_KEY_LENGTH}`);
      return Buffer.from(k);
    },
  };
}

function loadKey(input: string | Buffer | JsonWebKey | KeyObject, want: 'public' | 'private'): KeyObject {
  if (typeof input === 'object' && !Buffer.isBuffer(input) && 'type' in input && typeof (input as KeyObject).export === 'function') return input as KeyObject;
  try {
    const jwk = asJwk(input as string | Buffer | JsonWebKey);
    if (jwk) return want === 'private' && jwk.d !== undefined ? createPrivateKey({ key: jwk, format: 'jwk' }) : createPublicKey({ key: jwk, format: 'jwk' });
    return want === 'private' ? createPrivateKey(input as string | Buffer) : createPublicKey(input as string | Buffer);
  } catch (cause) {
    throw new KeyError('ERR_KEY_INVALID', `the RSA ${want} key is neither PEM nor JWK`, { cause });
  }
}

function asJwk(input: string | Buffer | JsonWebKey): JsonWebKey | undefined {
  if (typeof input === 'object' && !Buffer.isBuffer(input)) return input;
  const text = input.toString().trim();
  return text.startsWith('{') ? (JSON.parse(text) as JsonWebKey) : undefined;
}

function checkRsa(key: KeyObject): KeyObject {
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (key.asymmetricKeyType !== 'rsa') throw new KeyError('ERR_KEY_UNSUPPORTED', `wrapping needs an RSA key, got ${key.asymmetricKeyType ?? 'a symmetric key'}`);
  if (bits < MIN_RSA_BITS) throw new KeyError('ERR_KEY_UNSUPPORTED', `RSA key has ${bits} bits; at least ${MIN_RSA_BITS} are required (3072 recommended)`);
  return key;
}
