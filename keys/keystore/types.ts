/** Key types as Key Vault spells them; the -HSM spellings are kept so a key reads back as it was created. */
export type KeyType = 'oct' | 'oct-HSM' | 'RSA' | 'RSA-HSM';

/** Key Vault's JSON Web Key operations. */
export const KEY_OPERATIONS = ['encrypt', 'decrypt', 'sign', 'verify', 'wrapKey', 'unwrapKey', 'import', 'export'] as const;
export type KeyOperation = (typeof KEY_OPERATIONS)[number];

/** A release policy as Key Vault stores it: `data` is the base64url (unpadded) policy JSON. */
export interface ReleasePolicy {
  readonly contentType: string;
  readonly data: string;
  readonly immutable: boolean;
}

/** A release policy as a caller gives it (Key Vault's request shape: contentType and immutable optional). */
export interface ReleasePolicyInput {
  readonly contentType?: string;
  /** base64url of the policy JSON; padding is accepted and dropped. */
  readonly data: string;
  readonly immutable?: boolean;
}

/** Key Vault's key attributes, per version. Times are Unix seconds. */
export interface KeyAttributes {
  readonly enabled: boolean;
  readonly exportable: boolean;
  readonly created: number;
  readonly updated: number;
  readonly recoverableDays: number;
  readonly recoveryLevel: string;
}

/** One key version without its private material: what `get` and `list` return. */
export interface KeyVersionInfo {
  readonly name: string;
  /** 32 lowercase hex characters, as Key Vault's versions. */
  readonly version: string;
  readonly kty: KeyType;
  /** Bits: 128/192/256 for oct, the modulus length for RSA. */
  readonly keySize: number;
  readonly keyOps: readonly KeyOperation[];
  /** base64url modulus and exponent for RSA; null for oct, whose only part is secret. */
  readonly publicKey: { readonly n: string; readonly e: string } | null;
  readonly attributes: KeyAttributes;
  readonly releasePolicy: ReleasePolicy | null;
}

/** A soft-deleted key: its latest version and when it was deleted (Unix seconds). */
export interface DeletedKeyInfo {
  readonly key: KeyVersionInfo;
  readonly deletedDate: number;
  readonly scheduledPurgeDate: number;
}

/** What to create. Key Vault's defaults: RSA 2048, oct 256, enabled, not exportable. */
export interface CreateKeyInput {
  readonly kty: KeyType;
  readonly keySize?: number;
  readonly keyOps?: readonly string[];
  readonly enabled?: boolean;
  readonly exportable?: boolean;
  readonly releasePolicy?: ReleasePolicyInput;
}

/** A JSON Web Key to import: an oct key's `k`, or an RSA private key with every CRT part (base64url). */
export interface ImportedJwk {
  readonly kty: string;
  readonly key_ops?: readonly string[];
  readonly k?: string;
  readonly n?: string;
  readonly e?: string;
  readonly d?: string;
  readonly p?: string;
  readonly q?: string;
  readonly dp?: string;
  readonly dq?: string;
  readonly qi?: string;
}

/** What to import (Key Vault's PUT /keys/{name}). Defaults as create: enabled, not exportable. */
export interface ImportKeyInput {
  readonly key: ImportedJwk;
  /** Key Vault's `hsm`: an oct or RSA key is stored as oct-HSM or RSA-HSM. */
  readonly hsm?: boolean;
  readonly enabled?: boolean;
  readonly exportable?: boolean;
  readonly releasePolicy?: ReleasePolicyInput;
}

/** Who asks; recorded as the audit entry's actor. */
export interface Actor {
  readonly actor: string;
}

/** A change of a key version's attributes (Key Vault's PATCH /keys/{name}[/{version}]). */
export interface KeyUpdate {
  readonly enabled?: boolean;
  /** Accepted only when equal to the current value (AKV.SKR.1003). */
  readonly exportable?: boolean;
  readonly releasePolicy?: ReleasePolicyInput;
}

/** Recovery level reported for every key: deletion is soft and a deleted key can be purged early. */
export const RECOVERY_LEVEL = 'Recoverable+Purgeable';
