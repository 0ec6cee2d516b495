import { randomBytes } from 'node:crypto';
import type { KeystoreContext } from './context.js';
import { type ProtectedAttributes, type VersionIdentity, attributesMac, attributesMacValid, corrupt, dekContext, sealMaterial } from './envelope.js';
import { wipe } from './errors.js';
import { unwrapWithAny } from './kek.js';
import { baseType, generateMaterial } from './material.js';
import type { StoredVersion } from './storage.js';
import type { KeyOperation, KeyType, ReleasePolicy } from './types.js';

export function identityOf(v: Pick<StoredVersion, 'name' | 'version' | 'kty' | 'keySize'>): VersionIdentity {
  return { name: v.name, version: v.version, family: baseType(v.kty), keySize: v.keySize };
}

export function protectedOf(v: Pick<StoredVersion, 'keyOps' | 'enabled' | 'exportable' | 'releasePolicy'>): ProtectedAttributes {
  return { keyOps: v.keyOps, enabled: v.enabled, exportable: v.exportable, releasePolicy: v.releasePolicy };
}

/** What a new version is made of, before its material exists. */
export interface VersionSpec {
  readonly name: string;
  readonly version: string;
  readonly kty: KeyType;
  readonly keySize: number;
  readonly keyOps: readonly KeyOperation[];
  readonly enabled: boolean;
  readonly exportable: boolean;
  readonly releasePolicy: ReleasePolicy | null;
  readonly created: number;
}

/** Private material and its public part: raw bytes for oct, PKCS#8 DER for RSA. */
export interface KeyMaterial {
  readonly material: Buffer;
  readonly publicKey: { n: string; e: string } | null;
}

/**
 * Seals a new version's material (generated, or `supplied` by an import, which this takes over): fresh DEK,
 * material under AES-256-GCM bound to the version, attributes MACed, DEK wrapped by the current KEK. Material
 * and DEK are wiped before returning.
 */
export async function sealNewVersion(ctx: KeystoreContext, spec: VersionSpec, supplied?: KeyMaterial): Promise<Omit<StoredVersion, 'ord' | 'rev'>> {
  const { material, publicKey } = supplied ?? (await generateMaterial(spec.kty, spec.keySize));
  const dek = randomBytes(32);
  try {
    const id = identityOf(spec);
    const sealed = sealMaterial(dek, id, material);
    const mac = attributesMac(dek, id, protectedOf(spec));
    const wrapped = await ctx.keks[0].wrap(dek, dekContext(id));
    return { ...spec, updated: spec.created, publicKey, dek: wrapped, material: sealed, mac };
  } finally {
    wipe(material, dek);
  }
}

/** A stored version's DEK, unwrapped, and whether the stored attributes are authentic. The caller wipes `dek`. */
export interface Unlocked {
  readonly dek: Buffer;
  readonly macValid: boolean;
}

/** Unwraps a version's DEK (with whichever KEK wrapped it) and checks the attributes' MAC. */
export async function unlockVersion(ctx: KeystoreContext, v: StoredVersion): Promise<Unlocked> {
  const id = identityOf(v);
  const dek = await unwrapWithAny(ctx.keks, v.dek, dekContext(id));
  if (dek.length !== 32) {
    wipe(dek);
    throw corrupt(v, 'data key');
  }
  return { dek, macValid: attributesMacValid(dek, id, protectedOf(v), v.mac) };
}

/** Runs `fn` with the version's DEK, refusing a version whose attributes were changed at rest; wipes the DEK. */
export async function withAuthenticDek<T>(ctx: KeystoreContext, v: StoredVersion, fn: (dek: Buffer) => T | Promise<T>): Promise<T> {
  const { dek, macValid } = await unlockVersion(ctx, v);
  try {
    if (!macValid) throw corrupt(v, 'attributes (enabled, exportable, key_ops or release policy)');
    return await fn(dek);
  } finally {
    wipe(dek);
  }
}
