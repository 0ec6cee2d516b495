/** The keystore: keys, versions, release policies, envelope encryption at rest, SQLite storage. */
export { KEYSTORE_ERROR_CODES, KeystoreError, type KeystoreErrorCode, isKeystoreError, wipe } from './errors.js';
export { type KeyVaultErrorBody, akvCodeOf, toKeyVaultError } from './key-vault-errors.js';
export { Keystore, type KeystoreOptions } from './keystore.js';
export type { IfExists } from './create-version.js';
export type { ExportOptions, ExportedKey, IntegrityFailure } from './release-export.js';
export { type KeyEncryptionKey, LocalKek, type WrappedDek } from './kek.js';
export { generateKekFile, kekFromEnv, kekFromFile } from './kek-sources.js';
export { AzureKeyVaultKek, type KeyWrapClient, azureKeyVaultKek } from './kek-azure.js';
export { DEFAULT_POLICY_CONTENT_TYPE, type PolicyValidator, encodeReleasePolicy, policyDigest } from './release-policy.js';
export { keyUrl } from './names.js';
export { type KeyVaultDeletedKeyBundle, type KeyVaultKeyBundle, type KeyVaultKeyItem, toDeletedKeyBundle, toKeyBundle, toKeyItem, toKeyVersionItem } from './key-vault-json.js';
export type { KeyAndAuditStore, KeyStorage, StoredKey, StoredVersion } from './storage.js';
export { STORE_FILE, type SqliteStore, type SqliteStoreOptions, openSqliteStore } from './sqlite/open.js';
export * from './types.js';
