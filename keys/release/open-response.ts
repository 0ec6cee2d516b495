import { type KeyObject, createPrivateKey, createPublicKey } from 'node:crypto';
import { KeystoreError, isKeystoreError, wipe } from '../keystore/errors.js';
import type { ReleaseEnc } from '../wrap/enc.js';
import { type KeyHsm, type TeeDecryptor, type TeePrivateKey, toPrivateKey, unwrapKeyHsm, unwrapKeyHsmWith } from '../wrap/key-hsm.js';
import type { ReleasePayload } from './payload.js';
import { type VerifiedRelease, type VerifyReleaseOptions, sameString, verifyReleaseResponse } from './verify-response.js';

export interface OpenReleaseOptions extends VerifyReleaseOptions {
  /**
   * The TEE's key: its RSA private key (the one whose public half went into the attestation's runtime data), or,
   * for a key that never leaves a TPM, the TPM's decryptor (the caller vouches that it holds `teePublicJwk`).
   */
  readonly teePrivateKey: TeePrivateKey | TeeDecryptor;
  /** The public JWK the runner published (its `kid` is what Key Vault names in key_hsm). */
  readonly teePublicJwk: { readonly kid: string; readonly n: string; readonly e: string };
}

/** A released key, unwrapped. `material` is raw bytes (oct) or PKCS#8 DER (RSA/EC): wipe it after use. */
export interface OpenedRelease {
  readonly material: Buffer;
  /** 'oct', 'RSA' or 'EC' (any -HSM suffix dropped). */
  readonly kty: string;
  /** The released key's versioned identifier. */
  readonly kid: string;
  readonly enc: ReleaseEnc;
  readonly key: ReleasePayload['response']['key'];
  readonly signer: VerifiedRelease['signer'];
}

/** Equal base64url big-endian integers, whatever leading zero bytes either encoding kept. */
function sameInteger(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  const strip = (s: string): string => Buffer.from(s, 'base64url').toString('hex').replace(/^(00)+/, '');
  return strip(a) === strip(b);
}

/** The private key matches the public JWK the caller says is its own. */
function checkOwnKey(priv: KeyObject, jwk: OpenReleaseOptions['teePublicJwk']): void {
  const mine = createPublicKey(priv).export({ format: 'jwk' });
  if (!sameInteger(mine.n, jwk.n) || !sameInteger(mine.e, jwk.e)) throw new KeystoreError('ERR_RELEASE_BINDING', 'the TEE public key given is not the public half of the TEE private key');
}

/** The material is what the payload announces: an oct key of an AES size, or a private key matching n/e. */
function checkMaterial(kty: string, material: Buffer, key: ReleasePayload['response']['key']['key']): void {
  const mismatch = (why: string): KeystoreError => new KeystoreError('ERR_RELEASE_KEY_MISMATCH', `the unwrapped ${kty} key ${why}`);
  if (kty === 'oct') {
    if (![16, 24, 32].includes(material.length)) throw mismatch(`is ${material.length} bytes, not an AES key size`);
    return;
  }
  if (kty !== 'RSA' && kty !== 'EC') throw mismatch('has an unsupported kty');
  let priv: KeyObject;
  try {
    priv = createPrivateKey({ key: material, format: 'der', type: 'pkcs8' });
  } catch {
    throw mismatch('is not a PKCS#8 private key');
  }
  if (priv.asymmetricKeyType !== kty.toLowerCase()) throw mismatch(`is a ${priv.asymmetricKeyType ?? 'other'} key`);
  if (kty === 'RSA' && key.n !== undefined) {
    const pub = createPublicKey(priv).export({ format: 'jwk' });
    if (!sameInteger(pub.n, key.n) || !sameInteger(pub.e, key.e)) throw mismatch("does not match the response's n and e");
  }
}

function isDecryptor(key: TeePrivateKey | TeeDecryptor): key is TeeDecryptor {
  return typeof key === 'object' && key !== null && typeof (key as Partial<TeeDecryptor>).decrypt === 'function' && typeof (key as Partial<TeeDecryptor>).modulusBytes === 'number';
}

async function unwrap(keyHsm: KeyHsm, options: OpenReleaseOptions): Promise<{ material: Buffer }> {
  const tee = options.teePrivateKey;
  if (isDecryptor(tee)) return unwrapKeyHsmWith(keyHsm, tee);
  const priv = toPrivateKey(tee);
  checkOwnKey(priv, options.teePublicJwk);
  return unwrapKeyHsm(keyHsm, priv);
}

/**
 * The runner's side of a release: verifies the response (`verifyReleaseResponse`), checks that the key is
 * wrapped to the caller's own TEE key (key_hsm's kid is the caller's kid, and the private key given matches
 * that public key), unwraps, and checks the material against the released key's type and public part.
 */
export async function openReleaseResponse(value: string | { value?: unknown }, options: OpenReleaseOptions): Promise<OpenedRelease> {
  const verified = await verifyReleaseResponse(value, options);
  if (!sameString(verified.keyHsm.header.kid, options.teePublicJwk.kid)) {
    throw new KeystoreError('ERR_RELEASE_BINDING', `the key is wrapped to TEE key "${verified.keyHsm.header.kid.slice(0, 100)}", not to this TEE's key "${options.teePublicJwk.kid.slice(0, 100)}"`);
  }
  let material: Buffer;
  try {
    ({ material } = await unwrap(verified.keyHsm, options));
  } catch (e) {
    // With the kid bound, a failed RSA-OAEP means the wrapped key was made for another key under our kid.
    if (isKeystoreError(e) && e.code === 'ERR_WRAP_DECRYPT') throw new KeystoreError('ERR_RELEASE_BINDING', 'the key cannot be unwrapped with this TEE key', { cause: e });
    throw e;
  }
  const released = verified.payload.response.key.key;
  const kty = released.kty.replace(/-HSM$/, '');
  try {
    checkMaterial(kty, material, released);
  } catch (e) {
    wipe(material);
    throw e;
  }
  return { material, kty, kid: released.kid, enc: verified.keyHsm.header.enc, key: verified.payload.response.key, signer: verified.signer };
}
