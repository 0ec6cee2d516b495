import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from '../audit/canonical-json.js';
import { KeystoreError, wipe } from './errors.js';
import type { KeyOperation, ReleasePolicy } from './types.js';

/** Names the row a DEK and its material belong to; bound as associated data so rows cannot be swapped. */
export interface VersionIdentity {
  readonly name: string;
  readonly version: string;
  /** 'oct' or 'RSA'. */
  readonly family: string;
  readonly keySize: number;
}

/** The attributes that decide a release, authenticated with a key derived from the DEK. */
export interface ProtectedAttributes {
  readonly keyOps: readonly KeyOperation[];
  readonly enabled: boolean;
  readonly exportable: boolean;
  readonly releasePolicy: ReleasePolicy | null;
}

/** Material encrypted under a DEK: AES-256-GCM, 12-byte IV, 16-byte tag. */
export interface SealedMaterial {
  readonly iv: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

function identityBytes(purpose: string, id: VersionIdentity): Buffer {
  // NUL separators cannot occur in names, versions or families, so no two identities encode alike.
  return Buffer.from(`zt4ai/keystore/${purpose}/v1\0${id.name}\0${id.version}\0${id.family}\0${id.keySize}`, 'utf8');
}

/** The associated data the KEK binds a DEK to. */
export function dekContext(id: VersionIdentity): Buffer {
  return identityBytes('dek', id);
}

/** Encrypts material under a fresh-IV AES-256-GCM with the version identity as associated data. */
export function sealMaterial(dek: Uint8Array, id: VersionIdentity, material: Uint8Array): SealedMaterial {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', dek, iv).setAAD(identityBytes('material', id));
  const ciphertext = Buffer.concat([cipher.update(material), cipher.final()]);
  return { iv, ciphertext, tag: cipher.getAuthTag() };
}

/** Decrypts material; ERR_KEYSTORE_CORRUPT when it does not authenticate (changed bytes, or another row's). */
export function openMaterial(dek: Uint8Array, id: VersionIdentity, sealed: SealedMaterial): Buffer {
  if (sealed.iv.length !== 12 || sealed.tag.length !== 16) throw corrupt(id, 'material');
  const decipher = createDecipheriv('aes-256-gcm', dek, sealed.iv).setAAD(identityBytes('material', id));
  decipher.setAuthTag(sealed.tag);
  const out = decipher.update(sealed.ciphertext);
  try {
    decipher.final();
  } catch {
    wipe(out);
    throw corrupt(id, 'material');
  }
  return out;
}

/** HMAC-SHA256 over the identity and the release-deciding attributes, keyed by HKDF(DEK). */
export function attributesMac(dek: Uint8Array, id: VersionIdentity, attrs: ProtectedAttributes): Buffer {
  const macKey = Buffer.from(hkdfSync('sha256', dek, Buffer.alloc(0), 'zt4ai/keystore/attributes/v1', 32));
  try {
    const body = canonicalJson({ id: identityBytes('attributes', id).toString('base64'), keyOps: [...attrs.keyOps], enabled: attrs.enabled, exportable: attrs.exportable, releasePolicy: attrs.releasePolicy });
    return createHmac('sha256', macKey).update(body, 'utf8').digest();
  } finally {
    wipe(macKey);
  }
}

/** Whether `mac` authenticates the attributes (constant time). */
export function attributesMacValid(dek: Uint8Array, id: VersionIdentity, attrs: ProtectedAttributes, mac: Uint8Array): boolean {
  const expected = attributesMac(dek, id, attrs);
  return expected.length === mac.length && timingSafeEqual(expected, mac);
}

export function corrupt(id: Pick<VersionIdentity, 'name' | 'version'>, what: string): KeystoreError {
  return new KeystoreError('ERR_KEYSTORE_CORRUPT', `key "${id.name}" version ${id.version}: its ${what} does not authenticate; restore the store from a backup`);
}
