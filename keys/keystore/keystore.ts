import { type KeystoreContext, toInfo } from './context.js';
import { type IfExists, createKey, liveKey, notFound, rotateKey } from './create-version.js';
import { KeystoreError } from './errors.js';
import { importKey } from './import-version.js';
import type { KeyEncryptionKey } from './kek.js';
import { deleteKey, getDeletedKey, listDeletedKeys, purgeExpired, purgeKey, recoverKey } from './lifecycle.js';
import { assertKeyName, normalizeVersion } from './names.js';
import { type ExportOptions, type ExportedKey, type IntegrityFailure, checkIntegrity, exportForRelease, rewrapDeks } from './release-export.js';
import type { PolicyValidator } from './release-policy.js';
import type { KeyStorage } from './storage.js';
import type { Actor, CreateKeyInput, ImportKeyInput, DeletedKeyInfo, KeyUpdate, KeyVersionInfo, ReleasePolicyInput } from './types.js';
import { updateKey } from './update-version.js';

export interface KeystoreOptions {
  readonly storage: KeyStorage;
  /** Wraps every new data key. */
  readonly kek: KeyEncryptionKey;
  /** Retired KEKs still able to unwrap older data keys (see `rewrapDeks`). */
  readonly retiredKeks?: readonly KeyEncryptionKey[];
  /** Days a deleted key stays recoverable (Key Vault: 7-90; default 90). */
  readonly recoverableDays?: number;
  /** Checks a release policy document before it is stored (the KRS passes the policy engine's parser). */
  readonly validatePolicy?: PolicyValidator;
  readonly now?: () => Date;
}

/**
 * Keys with versions, attributes and release policies, private material encrypted at rest (envelope: per-version
 * DEK under the KEK). Every change is recorded in the audit log in the same transaction. Methods throw
 * KeystoreError with stable codes; `toKeyVaultError` turns them into Key Vault's HTTP answers.
 */
export class Keystore {
  readonly #ctx: KeystoreContext;

  constructor(options: KeystoreOptions) {
    const recoverableDays = options.recoverableDays ?? 90;
    if (!Number.isInteger(recoverableDays) || recoverableDays < 0) throw new KeystoreError('ERR_STORE_OPEN', 'recoverableDays must be a non-negative integer');
    this.#ctx = {
      storage: options.storage,
      keks: [options.kek, ...(options.retiredKeks ?? [])],
      now: options.now ?? (() => new Date()),
      recoverableDays,
      validatePolicy: options.validatePolicy,
    };
  }

  /** Creates a key; on an existing name adds a version as Key Vault does, unless `ifExists` is 'fail'. */
  create(name: string, input: CreateKeyInput, who: Actor & { ifExists?: IfExists }): Promise<KeyVersionInfo> {
    return createKey(this.#ctx, name, input, who);
  }

  /** Imports a key's material (Key Vault's import): a new key, or a new version of an existing one. */
  import(name: string, input: ImportKeyInput, who: Actor & { ifExists?: IfExists }): Promise<KeyVersionInfo> {
    return importKey(this.#ctx, name, input, who);
  }

  /** A version's public part and attributes (the current version by default); deleted keys are not found. */
  async get(name: string, version?: string): Promise<KeyVersionInfo> {
    assertKeyName(name);
    const key = await liveKey(this.#ctx, name);
    const v = version === undefined ? undefined : normalizeVersion(version);
    const stored = await this.#ctx.storage.getVersion(name, v);
    if (!stored) throw notFound(name, v);
    return toInfo(key, stored);
  }

  /** Every live key's current version, by name. */
  async list(): Promise<KeyVersionInfo[]> {
    return (await this.#ctx.storage.listKeys({ deleted: false })).map(({ key, current }) => toInfo(key, current));
  }

  /** Every version of a live key, oldest first. */
  async listVersions(name: string): Promise<KeyVersionInfo[]> {
    assertKeyName(name);
    const key = await liveKey(this.#ctx, name);
    return (await this.#ctx.storage.listVersions(name)).map((v) => toInfo(key, v));
  }

  /** Key Vault's PATCH on a version (the current one by default): enabled, release policy. */
  update(name: string, patch: KeyUpdate, who: Actor & { version?: string }): Promise<KeyVersionInfo> {
    return updateKey(this.#ctx, name, patch, who);
  }

  /** Replaces the current version's release policy (refused when immutable: AKV.SKR.1020). */
  setReleasePolicy(name: string, policy: ReleasePolicyInput, who: Actor): Promise<KeyVersionInfo> {
    return updateKey(this.#ctx, name, { releasePolicy: policy }, who);
  }

  setEnabled(name: string, enabled: boolean, who: Actor & { version?: string }): Promise<KeyVersionInfo> {
    return updateKey(this.#ctx, name, { enabled }, who);
  }

  /** A new current version inheriting type, size, operations, exportability and release policy. */
  rotate(name: string, who: Actor): Promise<KeyVersionInfo> {
    return rotateKey(this.#ctx, name, who);
  }

  /** Soft delete: the key is gone from get, list and release, recoverable for `recoverableDays`. */
  delete(name: string, who: Actor): Promise<DeletedKeyInfo> {
    return deleteKey(this.#ctx, name, who);
  }

  recover(name: string, who: Actor): Promise<void> {
    return recoverKey(this.#ctx, name, who);
  }

  /** Erases a deleted key for good. */
  purge(name: string, who: Actor): Promise<void> {
    return purgeKey(this.#ctx, name, who);
  }

  /** Purges deleted keys past their recovery period; returns their names. */
  purgeExpired(who: Actor): Promise<string[]> {
    return purgeExpired(this.#ctx, who);
  }

  getDeleted(name: string): Promise<DeletedKeyInfo> {
    return getDeletedKey(this.#ctx, name);
  }

  listDeleted(): Promise<DeletedKeyInfo[]> {
    return listDeletedKeys(this.#ctx);
  }

  /**
   * Private material for the release path only (a version id, or options with `version` and `authorize`);
   * see `exportForRelease`. The caller wipes `material`.
   */
  exportForRelease(name: string, options: string | ExportOptions = {}): Promise<ExportedKey> {
    return exportForRelease(this.#ctx, name, typeof options === 'string' ? { version: options } : options);
  }

  /** Opens every stored version and reports the ones that fail. */
  checkIntegrity(): Promise<{ checked: number; failures: IntegrityFailure[] }> {
    return checkIntegrity(this.#ctx);
  }

  /** Re-wraps data keys of retired KEKs under the current KEK; returns how many. */
  rewrapDeks(who: Actor): Promise<number> {
    return rewrapDeks(this.#ctx, who);
  }
}
