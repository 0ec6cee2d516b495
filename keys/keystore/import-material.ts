import { constants, createPrivateKey, createPublicKey, privateDecrypt, publicEncrypt, randomBytes } from 'node:crypto';
import { KeystoreError, wipe } from './errors.js';
import { baseType, checkKeyType } from './material.js';
import type { ImportedJwk, KeyType } from './types.js';
import type { KeyMaterial } from './version-crypto.js';

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const RSA_PRIVATE = ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'] as const;

/** The stored type of an imported JWK: Key Vault's `hsm` flag turns oct / RSA into oct-HSM / RSA-HSM. */
export function importedKeyType(jwk: ImportedJwk, hsm: boolean | undefined): KeyType {
  const kty = jwk.kty;
  if (kty !== 'oct' && kty !== 'oct-HSM' && kty !== 'RSA' && kty !== 'RSA-HSM') {
    throw new KeystoreError('ERR_KEYSTORE_KEY_TYPE', `key type "${String(kty).slice(0, 20)}" cannot be imported (oct, oct-HSM, RSA, RSA-HSM)`);
  }
  return hsm && !kty.endsWith('-HSM') ? (`${kty}-HSM` as KeyType) : kty;
}

/**
 * The private material of an imported JWK as the keystore holds it: the raw `k` bytes of an oct key, PKCS#8
 * DER of an RSA private key (every CRT part required, checked to belong together). The caller wipes
 * `material`. Messages name the failing part, never a value.
 */
export function importedMaterial(jwk: ImportedJwk, kty: KeyType): KeyMaterial & { keySize: number } {
  return baseType(kty) === 'oct' ? octMaterial(jwk, kty) : rsaMaterial(jwk, kty);
}

function octMaterial(jwk: ImportedJwk, kty: KeyType): KeyMaterial & { keySize: number } {
  for (const part of RSA_PRIVATE) if (jwk[part] !== undefined) throw bad(`an oct key has no "${part}"`);
  const k = jwk.k;
  if (typeof k !== 'string' || !BASE64URL.test(k)) throw bad('an oct key needs its bytes as base64url "k"');
  const material = Buffer.from(k, 'base64url');
  try {
    const { keySize } = checkKeyType(kty, material.length * 8);
    return { material, publicKey: null, keySize };
  } catch (e) {
    wipe(material);
    throw e;
  }
}

function rsaMaterial(jwk: ImportedJwk, kty: KeyType): KeyMaterial & { keySize: number } {
  if (jwk.k !== undefined) throw bad('an RSA key has no "k"');
  const parts: Record<string, string> = { kty: 'RSA' };
  for (const part of RSA_PRIVATE) {
    const v = jwk[part];
    if (typeof v !== 'string' || !BASE64URL.test(v)) throw bad(`an RSA key needs its private parts: "${part}" is missing or not base64url`);
    parts[part] = v;
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey({ key: parts, format: 'jwk' });
  } catch {
    throw bad('the RSA private key cannot be read');
  }
  const { keySize } = checkKeyType(kty, privateKey.asymmetricKeyDetails?.modulusLength ?? 0);
  const publicKey = createPublicKey(privateKey);
  // The CRT parts decrypt, n and e encrypt: a round trip shows that they belong together.
  const probe = randomBytes(32);
  const oaep = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' } as const;
  let back: Buffer | undefined;
  try {
    back = privateDecrypt({ key: privateKey, ...oaep }, publicEncrypt({ key: publicKey, ...oaep }, probe));
  } catch {
    // fall through: the parts do not belong together
  }
  const consistent = back?.equals(probe) === true && crtConsistent(parts);
  wipe(probe, back);
  if (!consistent) throw bad('the parts of the RSA private key do not belong together');
  const pub = publicKey.export({ format: 'jwk' });
  return { material: privateKey.export({ type: 'pkcs8', format: 'der' }), publicKey: { n: pub.n!, e: pub.e! }, keySize };
}

/** n = p·q, dp = d mod (p-1), dq = d mod (q-1), qi·q ≡ 1 (mod p): OpenSSL would silently fall back on n and d otherwise. */
function crtConsistent(j: Record<string, string>): boolean {
  const int = (part: string): bigint => BigInt(`0x${Buffer.from(j[part]!, 'base64url').toString('hex') || '0'}`);
  const [n, d, p, q, dp, dq, qi] = [int('n'), int('d'), int('p'), int('q'), int('dp'), int('dq'), int('qi')];
  return p > 1n && q > 1n && n === p * q && dp === d % (p - 1n) && dq === d % (q - 1n) && (qi * q) % p === 1n;
}

function bad(why: string): KeystoreError {
  return new KeystoreError('ERR_KEYSTORE_KEY_MATERIAL', `imported key: ${why}`);
}
