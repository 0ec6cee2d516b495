import { type KeyObject, createPublicKey, verify } from 'node:crypto';
import { KeyError } from '../errors.js';
import type { ParsedBundle } from './bundle.js';
import { curveOf, keyHint, pemBlock } from './ec-keys.js';

/** Verifies an ECDSA DER signature with the hash OMS ties to the key's curve. */
export function ecdsaVerifies(key: KeyObject, data: Buffer, signature: Buffer): boolean {
  try {
    return verify(curveOf(key).hash, data, { key, dsaEncoding: 'der' }, signature);
  } catch {
    return false;
  }
}

/**
 * Key mode: the bundle names its key by `hint` (model_signing >= 1.1) or carries it as `rawBytes`
 * (base64 of the PEM text, 0.3..1.0). A named key that is not trusted is refused without trying it.
 */
export function verifyKeySignature(b: ParsedBundle, trusted: readonly KeyObject[], signed: Buffer, signature: Buffer): KeyError[] {
  if (b.material.kind !== 'publicKey') return [new KeyError('ERR_SIG_MATERIAL', `the bundle carries ${b.material.kind === 'chain' ? 'a certificate chain' : 'a Sigstore certificate'}, not a public key: verify it in certificate or keyless mode`)];
  const named = namedKeys(b.material, trusted);
  if (named.length === 0) return [new KeyError('ERR_SIG_KEY_MISMATCH', 'the bundle was signed by a key that is not among the trusted keys')];
  if (named.some((k) => ecdsaVerifies(k, signed, signature))) return [];
  return [new KeyError('ERR_SIG_SIGNATURE_INVALID', 'the DSSE signature does not verify with the trusted key')];
}

function namedKeys(m: { hint?: string; rawBytes?: Buffer }, trusted: readonly KeyObject[]): KeyObject[] {
  if (m.hint !== undefined) return trusted.filter((k) => keyHint(k) === m.hint);
  if (m.rawBytes !== undefined) {
    const embedded = embeddedKey(m.rawBytes);
    if (!embedded) return [];
    return trusted.filter((k) => k.equals(embedded));
  }
  return [...trusted];
}

function embeddedKey(raw: Buffer): KeyObject | undefined {
  try {
    const block = pemBlock(raw.toString('latin1'), 'PUBLIC KEY');
    return block ? createPublicKey(block) : createPublicKey({ key: raw, format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
}
