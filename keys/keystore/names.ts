import { randomBytes } from 'node:crypto';
import { KeystoreError } from './errors.js';

/** Key Vault's object name rule. */
const NAME = /^[0-9A-Za-z-]{1,127}$/;
const VERSION = /^[0-9a-f]{32}$/;

export function assertKeyName(name: string): void {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new KeystoreError('ERR_KEYSTORE_NAME', `"${String(name).slice(0, 140)}" is not a valid key name (1-127 letters, digits and dashes)`);
  }
}

/** Key Vault accepts upper-case hex in URLs; versions are stored lower-case. */
export function normalizeVersion(version: string): string {
  const v = typeof version === 'string' ? version.toLowerCase() : '';
  if (!VERSION.test(v)) throw new KeystoreError('ERR_KEYSTORE_NAME', `"${String(version).slice(0, 40)}" is not a key version (32 hex characters)`);
  return v;
}

/** A fresh version id: 128 random bits as 32 hex characters, like Key Vault's. */
export function newVersionId(): string {
  return randomBytes(16).toString('hex');
}

/** Key Vault's key identifier URL: `{base}/keys/{name}[/{version}]`. */
export function keyUrl(baseUrl: string, name: string, version?: string): string {
  const base = baseUrl.replace(/\/+$/, '');
  return version === undefined ? `${base}/keys/${name}` : `${base}/keys/${name}/${version}`;
}
