import { generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { KeystoreError } from './errors.js';
import { KEY_OPERATIONS, type KeyOperation, type KeyType } from './types.js';

const generateKeyPairAsync = promisify(generateKeyPair);

const OCT_SIZES = [128, 192, 256];
const RSA_SIZES = [2048, 3072, 4096];

/** Key Vault's default operations per key type. */
const DEFAULT_OPS: Record<'oct' | 'RSA', readonly KeyOperation[]> = {
  oct: ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'],
  RSA: ['encrypt', 'decrypt', 'sign', 'verify', 'wrapKey', 'unwrapKey'],
};
const ALLOWED_OPS: Record<'oct' | 'RSA', ReadonlySet<string>> = {
  oct: new Set(['encrypt', 'decrypt', 'wrapKey', 'unwrapKey', 'import', 'export']),
  RSA: new Set(KEY_OPERATIONS),
};

/** The family of a key type: 'oct' or 'RSA'. */
export function baseType(kty: KeyType): 'oct' | 'RSA' {
  return kty.startsWith('oct') ? 'oct' : 'RSA';
}

/** Checks the type and size (defaulting as Key Vault does) and returns the size in bits. */
export function checkKeyType(kty: unknown, keySize: number | undefined): { kty: KeyType; keySize: number } {
  if (kty !== 'oct' && kty !== 'oct-HSM' && kty !== 'RSA' && kty !== 'RSA-HSM') {
    throw new KeystoreError('ERR_KEYSTORE_KEY_TYPE', `key type "${String(kty).slice(0, 20)}" is not supported (oct, oct-HSM, RSA, RSA-HSM)`);
  }
  const family = baseType(kty);
  const size = keySize ?? (family === 'oct' ? 256 : 2048);
  const allowed = family === 'oct' ? OCT_SIZES : RSA_SIZES;
  if (!allowed.includes(size)) throw new KeystoreError('ERR_KEYSTORE_KEY_TYPE', `${family} keys are ${allowed.join(', ')} bits, not ${String(size)}`);
  return { kty, keySize: size };
}

/** Checks key_ops (Key Vault's defaults when absent): known, not repeated, possible for the key type. */
export function checkKeyOps(kty: KeyType, ops: readonly string[] | undefined): KeyOperation[] {
  const family = baseType(kty);
  if (ops === undefined) return [...DEFAULT_OPS[family]];
  if (!Array.isArray(ops)) throw new KeystoreError('ERR_KEYSTORE_KEY_OPS', 'key_ops must be a list');
  const seen = new Set<string>();
  for (const op of ops) {
    if (typeof op !== 'string' || !ALLOWED_OPS[family].has(op)) throw new KeystoreError('ERR_KEYSTORE_KEY_OPS', `"${String(op).slice(0, 20)}" is not an operation of ${family} keys`);
    if (seen.has(op)) throw new KeystoreError('ERR_KEYSTORE_KEY_OPS', `key_ops names "${op}" twice`);
    seen.add(op);
  }
  return [...ops] as KeyOperation[];
}

/** Fresh private material and its public part: raw bytes for oct, PKCS#8 DER for RSA. The caller wipes `material`. */
export async function generateMaterial(kty: KeyType, keySize: number): Promise<{ material: Buffer; publicKey: { n: string; e: string } | null }> {
  if (baseType(kty) === 'oct') return { material: randomBytes(keySize / 8), publicKey: null };
  const { privateKey, publicKey } = await generateKeyPairAsync('rsa', { modulusLength: keySize, publicExponent: 0x10001 });
  const jwk = publicKey.export({ format: 'jwk' });
  return { material: privateKey.export({ type: 'pkcs8', format: 'der' }), publicKey: { n: jwk.n!, e: jwk.e! } };
}
