import type { KeyEncryptionKey } from './kek.js';
import type { PolicyValidator } from './release-policy.js';
import type { KeyStorage, StoredKey, StoredVersion } from './storage.js';
import { type KeyVersionInfo, RECOVERY_LEVEL } from './types.js';

/** What every keystore operation works with. */
export interface KeystoreContext {
  readonly storage: KeyStorage;
  /** The current KEK first (it wraps new DEKs), then retired ones that may still unwrap older DEKs. */
  readonly keks: readonly [KeyEncryptionKey, ...KeyEncryptionKey[]];
  readonly now: () => Date;
  readonly recoverableDays: number;
  readonly validatePolicy: PolicyValidator | undefined;
}

/** Unix seconds, as Key Vault's attributes. */
export function seconds(d: Date): number {
  return Math.floor(d.getTime() / 1000);
}

/** The public view of a stored version. */
export function toInfo(key: StoredKey, v: StoredVersion): KeyVersionInfo {
  return {
    name: v.name,
    version: v.version,
    kty: v.kty,
    keySize: v.keySize,
    keyOps: v.keyOps,
    publicKey: v.publicKey,
    attributes: {
      enabled: v.enabled,
      exportable: v.exportable,
      created: v.created,
      updated: v.updated,
      recoverableDays: key.recoverableDays,
      recoveryLevel: RECOVERY_LEVEL,
    },
    releasePolicy: v.releasePolicy,
  };
}
