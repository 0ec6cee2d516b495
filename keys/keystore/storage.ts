import type { AuditDraft } from '../audit/entry.js';
import type { AuditStorage } from '../audit/storage.js';
import type { SealedMaterial } from './envelope.js';
import type { WrappedDek } from './kek.js';
import type { KeyOperation, KeyType, ReleasePolicy } from './types.js';

/** A key version as stored: public facts in clear, private material only as an envelope. */
export interface StoredVersion {
  readonly name: string;
  readonly version: string;
  /** Creation order within the key, from 1; the highest is the current version. */
  readonly ord: number;
  readonly kty: KeyType;
  readonly keySize: number;
  readonly keyOps: readonly KeyOperation[];
  readonly publicKey: { readonly n: string; readonly e: string } | null;
  readonly enabled: boolean;
  readonly exportable: boolean;
  readonly created: number;
  readonly updated: number;
  readonly releasePolicy: ReleasePolicy | null;
  readonly dek: WrappedDek;
  readonly material: SealedMaterial;
  /** HMAC of the release-deciding attributes under a key derived from the DEK. */
  readonly mac: Buffer;
  /** Bumped by every update; updates name the revision they read (optimistic concurrency). */
  readonly rev: number;
}

/** The key itself: its versions share the name and the deletion state. */
export interface StoredKey {
  readonly name: string;
  readonly created: number;
  /** Unix seconds, or null while the key is live. */
  readonly deletedAt: number | null;
  readonly recoverableDays: number;
}

/** New version to insert. `expectLatest` guards rotations against a concurrent change of the current version. */
export interface NewVersion {
  readonly version: Omit<StoredVersion, 'ord' | 'rev'>;
  /** Create the key row too (a new key); otherwise the key must exist and be live. */
  readonly newKey: { readonly recoverableDays: number } | null;
  /** The version and revision the caller based this one on (null: none, or it does not matter). */
  readonly expectLatest: { readonly version: string; readonly rev: number } | null;
}

/** The fields an update may change. `updated` and `mac` always accompany a change. */
export interface VersionPatch {
  readonly enabled?: boolean;
  readonly releasePolicy?: ReleasePolicy | null;
  readonly dek?: WrappedDek;
  readonly mac?: Buffer;
  readonly updated: number;
}

/**
 * Where keys live. Every write is one atomic transaction that also appends its audit entries, so a crash
 * leaves either the change and its record or neither. Implementations throw KeystoreError ERR_KEYSTORE_CONFLICT
 * when a precondition (expected revision, free name, live key) does not hold at commit time.
 */
export interface KeyStorage {
  getKey(name: string): Promise<StoredKey | null>;
  /** The given version, or the current one when `version` is undefined; null when absent. */
  getVersion(name: string, version?: string): Promise<StoredVersion | null>;
  /** Every key with its current version, by name. */
  listKeys(options: { deleted: boolean }): Promise<Array<{ key: StoredKey; current: StoredVersion }>>;
  /** Every version of a key, oldest first. */
  listVersions(name: string): Promise<StoredVersion[]>;
  /** Every version of every key (integrity checks, KEK rotation), in pages after (name, ord). */
  scanVersions(after: { name: string; ord: number } | null, limit: number): Promise<StoredVersion[]>;
  insertVersion(change: NewVersion, audit: readonly AuditDraft[], time: string): Promise<StoredVersion>;
  updateVersion(name: string, version: string, expectRev: number, patch: VersionPatch, audit: readonly AuditDraft[], time: string): Promise<StoredVersion>;
  /** Soft-deletes (`deletedAt` set) or recovers (null); fails with CONFLICT when already in that state. */
  setDeleted(name: string, deletedAt: number | null, audit: readonly AuditDraft[], time: string): Promise<void>;
  /** Removes a soft-deleted key and all its versions for good. */
  purge(name: string, audit: readonly AuditDraft[], time: string): Promise<void>;
}

/** A store holding both keys and their audit log, closed together. */
export interface KeyAndAuditStore {
  readonly keys: KeyStorage;
  readonly audit: AuditStorage;
  close(): void;
}
