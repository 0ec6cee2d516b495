import { type KeyObject, generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import { rsaThumbprint } from '../../keys/sealing/data-keys.js';
import type { TeeDecryptor } from '../../keys/wrap/key-hsm.js';

const generate = promisify(generateKeyPair);

/**
 * The TEE's wrapping key; the public JWK goes into the runtime data. Its private half never leaves this process
 * (a KeyObject), or, on the AzureGuest path, never leaves the vTPM (a TeeDecryptor that asks the TPM).
 */
export interface TeeKey {
  readonly privateKey: KeyObject | TeeDecryptor;
  /** kid: the RFC 7638 thumbprint, or MAA's "TpmEphemeralEncryptionKey"; key_ops ["encrypt"]: what Key Vault and the KRS wrap a released key to. */
  readonly publicJwk: { readonly kty: 'RSA'; readonly kid: string; readonly n: string; readonly e: string; readonly key_ops: readonly ['encrypt'] };
  readonly bits: number;
}

/**
 * A fresh RSA key, made off the event loop. It exists only in this process's memory (a KeyObject: OpenSSL
 * frees it when the object is collected; JavaScript cannot zero it), so a released key wrapped to it can
 * be unwrapped only here.
 */
export async function generateTeeKey(bits: 2048 | 3072): Promise<TeeKey> {
  const { privateKey, publicKey } = await generate('rsa', { modulusLength: bits, publicExponent: 0x10001 });
  const jwk = publicKey.export({ format: 'jwk' });
  return { privateKey, publicJwk: { kty: 'RSA', kid: rsaThumbprint(publicKey), n: jwk.n!, e: jwk.e!, key_ops: ['encrypt'] }, bits };
}
