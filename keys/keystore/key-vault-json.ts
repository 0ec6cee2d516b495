import { keyUrl } from './names.js';
import type { DeletedKeyInfo, KeyVersionInfo } from './types.js';

/** Key Vault's JsonWebKey as `get` returns it: public part only. */
export interface KeyVaultJwk {
  kid: string;
  kty: string;
  key_ops: string[];
  n?: string;
  e?: string;
}

/** Key Vault's KeyAttributes on the wire. */
export interface KeyVaultAttributes {
  enabled: boolean;
  created: number;
  updated: number;
  recoveryLevel: string;
  recoverableDays: number;
  exportable: boolean;
}

/** Key Vault's KeyBundle: the answer of create, get, update and rotate. */
export interface KeyVaultKeyBundle {
  key: KeyVaultJwk;
  attributes: KeyVaultAttributes;
  release_policy?: { contentType: string; data: string; immutable: boolean };
}

/** Key Vault's KeyItem: one entry of list keys (versionless kid) or list versions (versioned kid). */
export interface KeyVaultKeyItem {
  kid: string;
  attributes: KeyVaultAttributes;
}

/** Key Vault's DeletedKeyBundle. */
export interface KeyVaultDeletedKeyBundle extends KeyVaultKeyBundle {
  recoveryId: string;
  deletedDate: number;
  scheduledPurgeDate: number;
}

function attributes(info: KeyVersionInfo): KeyVaultAttributes {
  const a = info.attributes;
  return { enabled: a.enabled, created: a.created, updated: a.updated, recoveryLevel: a.recoveryLevel, recoverableDays: a.recoverableDays, exportable: a.exportable };
}

/** The KeyBundle of a version; `baseUrl` is the vault URL clients use (e.g. https://krs.example.com). */
export function toKeyBundle(info: KeyVersionInfo, baseUrl: string): KeyVaultKeyBundle {
  const key: KeyVaultJwk = { kid: keyUrl(baseUrl, info.name, info.version), kty: info.kty, key_ops: [...info.keyOps] };
  if (info.publicKey) {
    key.n = info.publicKey.n;
    key.e = info.publicKey.e;
  }
  const bundle: KeyVaultKeyBundle = { key, attributes: attributes(info) };
  if (info.releasePolicy) bundle.release_policy = { ...info.releasePolicy };
  return bundle;
}

/** A list-keys item (versionless kid). */
export function toKeyItem(info: KeyVersionInfo, baseUrl: string): KeyVaultKeyItem {
  return { kid: keyUrl(baseUrl, info.name), attributes: attributes(info) };
}

/** A list-versions item (versioned kid). */
export function toKeyVersionItem(info: KeyVersionInfo, baseUrl: string): KeyVaultKeyItem {
  return { kid: keyUrl(baseUrl, info.name, info.version), attributes: attributes(info) };
}

/** The DeletedKeyBundle of a soft-deleted key. */
export function toDeletedKeyBundle(deleted: DeletedKeyInfo, baseUrl: string): KeyVaultDeletedKeyBundle {
  const recoveryId = `${baseUrl.replace(/\/+$/, '')}/deletedkeys/${deleted.key.name}`;
  return { ...toKeyBundle(deleted.key, baseUrl), recoveryId, deletedDate: deleted.deletedDate, scheduledPurgeDate: deleted.scheduledPurgeDate };
}
