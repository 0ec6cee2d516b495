import { type KeyObject, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { KeystoreError } from '../keystore/errors.js';
import { canonicalJson } from './canonical-json.js';

/** A signed statement "the log's entry `seq` has hash `hash`", made by the KRS at `time`. */
export interface AuditCheckpoint {
  readonly seq: number;
  readonly hash: string;
  readonly time: string;
  /** base64url SHA-256 of the signer's SubjectPublicKeyInfo DER. */
  readonly keyId: string;
  /** base64url signature over `checkpointPayload` (Ed25519, or ECDSA in IEEE P1363 form). */
  readonly signature: string;
}

/** Signs checkpoints; held by the KRS. Synchronous so a checkpoint can be written in the entry's transaction. */
export interface CheckpointSigner {
  readonly keyId: string;
  sign(payload: Uint8Array): Buffer;
}

const FORMAT = 'zt4ai-audit-checkpoint/1';

/** The exact bytes a checkpoint signature covers. */
export function checkpointPayload(cp: Pick<AuditCheckpoint, 'seq' | 'hash' | 'time' | 'keyId'>): Buffer {
  return Buffer.from(canonicalJson({ format: FORMAT, seq: cp.seq, hash: cp.hash, time: cp.time, keyId: cp.keyId }), 'utf8');
}

/** The key id of a public (or private) key: base64url SHA-256 of its SPKI DER. */
export function checkpointKeyId(key: KeyObject): string {
  const spki = publicOf(key).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64url');
}

/** `createPublicKey` accepts private KeyObjects only; a public one is already what we want. */
function publicOf(key: KeyObject): KeyObject {
  return key.type === 'public' ? key : createPublicKey(key);
}

/** The digest for `crypto.sign`/`verify`: none for Ed25519, the curve's hash for ECDSA; refuses other keys. */
function digestFor(key: KeyObject): string | null {
  if (key.asymmetricKeyType === 'ed25519') return null;
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return 'sha256';
    if (curve === 'secp384r1') return 'sha384';
  }
  throw new KeystoreError('ERR_AUDIT_SIGNER', `checkpoint keys must be Ed25519 or ECDSA P-256/P-384, not ${key.asymmetricKeyType ?? 'symmetric'}`);
}

/** A signer over an Ed25519 or ECDSA P-256/P-384 private key (KeyObject or PEM). */
export function createCheckpointSigner(privateKey: KeyObject | string): CheckpointSigner {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  if (key.type !== 'private') throw new KeystoreError('ERR_AUDIT_SIGNER', 'a checkpoint signer needs a private key');
  const digest = digestFor(key);
  const keyId = checkpointKeyId(key);
  return { keyId, sign: (payload) => sign(digest, payload, { key, dsaEncoding: 'ieee-p1363' }) };
}

/** A fresh Ed25519 checkpoint key, as PEM for the KRS to keep (private) and give to auditors (public). */
export function generateCheckpointKey(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** Signs a checkpoint for entry `seq` with hash `hash`. */
export function signCheckpoint(signer: CheckpointSigner, seq: number, hash: string, time: string): AuditCheckpoint {
  const unsigned = { seq, hash, time, keyId: signer.keyId };
  return { ...unsigned, signature: signer.sign(checkpointPayload(unsigned)).toString('base64url') };
}

/** True when one of `publicKeys` has the checkpoint's key id and its signature verifies. */
export function verifyCheckpoint(cp: AuditCheckpoint, publicKeys: readonly KeyObject[]): boolean {
  for (const key of publicKeys) {
    const pub = publicOf(key);
    if (checkpointKeyId(pub) !== cp.keyId) continue;
    try {
      if (verify(digestFor(pub), checkpointPayload(cp), { key: pub, dsaEncoding: 'ieee-p1363' }, Buffer.from(cp.signature, 'base64url'))) return true;
    } catch {
      // A malformed signature is a forged checkpoint, reported by the caller.
    }
  }
  return false;
}
