import type { AuditDraft } from '../audit/entry.js';
import { type KeystoreContext, seconds, toInfo } from './context.js';
import { KeystoreError } from './errors.js';
import { checkKeyOps, checkKeyType } from './material.js';
import { assertKeyName, newVersionId } from './names.js';
import { assertExportableRule, normalizeReleasePolicy, policyDigest, samePolicy } from './release-policy.js';
import type { StoredKey, StoredVersion } from './storage.js';
import type { Actor, CreateKeyInput, KeyVersionInfo, ReleasePolicy } from './types.js';
import { type KeyMaterial, type VersionSpec, sealNewVersion, withAuthenticDek } from './version-crypto.js';

/** `new-version` (Key Vault's behaviour: create on an existing name adds a version) or `fail`. */
export type IfExists = 'new-version' | 'fail';

/** Creates a key, or a new version of an existing one as Key Vault does unless `ifExists` is 'fail'. */
export async function createKey(ctx: KeystoreContext, name: string, input: CreateKeyInput, who: Actor & { ifExists?: IfExists }): Promise<KeyVersionInfo> {
  assertKeyName(name);
  const { kty, keySize } = checkKeyType(input.kty, input.keySize);
  const { spec, key, latest } = await newVersionSpec(ctx, name, { ...input, kty, keySize }, who.ifExists);
  return insert(ctx, spec, key, latest, who.actor);
}

/**
 * A new version's spec under Key Vault's rules (create and import alike): key_ops for the type, the exportable
 * and policy rules both ways, exportability fixed and an immutable policy kept across versions.
 */
export async function newVersionSpec(
  ctx: KeystoreContext,
  name: string,
  input: CreateKeyInput & { keySize: number },
  ifExists: IfExists | undefined,
): Promise<{ spec: VersionSpec; key: StoredKey | null; latest: StoredVersion | null }> {
  const { kty, keySize } = input;
  const keyOps = checkKeyOps(kty, input.keyOps);
  const exportable = input.exportable ?? false;
  let releasePolicy = input.releasePolicy === undefined ? null : normalizeReleasePolicy(input.releasePolicy, ctx.validatePolicy);
  assertExportableRule(name, exportable, releasePolicy);
  const key = await ctx.storage.getKey(name);
  if (key && key.deletedAt !== null) throw deleted(name);
  const latest = key ? await ctx.storage.getVersion(name) : null;
  if (key && ifExists === 'fail') throw new KeystoreError('ERR_KEYSTORE_EXISTS', `key "${name}" already exists`);
  if (latest) {
    await withAuthenticDek(ctx, latest, () => undefined);
    if (latest.exportable !== exportable) throw new KeystoreError('ERR_KEYSTORE_EXPORTABLE_FIXED', `key "${name}" is ${latest.exportable ? '' : 'not '}exportable; a new version cannot change that`);
    if (latest.releasePolicy?.immutable) {
      if (!samePolicy(latest.releasePolicy, releasePolicy)) throw immutable(name);
      releasePolicy = latest.releasePolicy;
    }
  }
  const spec: VersionSpec = { name, version: newVersionId(), kty, keySize, keyOps, enabled: input.enabled ?? true, exportable, releasePolicy, created: seconds(ctx.now()) };
  return { spec, key, latest };
}

/** A new version with the current version's type, size, operations, exportability and release policy. */
export async function rotateKey(ctx: KeystoreContext, name: string, who: Actor): Promise<KeyVersionInfo> {
  assertKeyName(name);
  const key = await liveKey(ctx, name);
  const latest = await ctx.storage.getVersion(name);
  if (!latest) throw notFound(name);
  // The policy is inherited, so it must be the authentic one, not one edited at rest.
  await withAuthenticDek(ctx, latest, () => undefined);
  const spec: VersionSpec = { ...latest, version: newVersionId(), enabled: true, created: seconds(ctx.now()) };
  return insert(ctx, spec, key, latest, who.actor);
}

/** Seals and stores a new version with its audit entry (`key-created`, or `key-rotated` on an existing key). */
export async function insert(ctx: KeystoreContext, spec: VersionSpec, key: StoredKey | null, latest: StoredVersion | null, actor: string, supplied?: KeyMaterial): Promise<KeyVersionInfo> {
  const version = await sealNewVersion(ctx, spec, supplied);
  const audit: AuditDraft = {
    kind: latest ? 'key-rotated' : 'key-created',
    subject: { name: spec.name, version: spec.version },
    actor,
    details: {
      kty: spec.kty,
      keySize: spec.keySize,
      keyOps: [...spec.keyOps],
      enabled: spec.enabled,
      exportable: spec.exportable,
      ...policyDetails(spec.releasePolicy),
      ...(latest ? { previousVersion: latest.version } : {}),
      ...(supplied ? { imported: true } : {}),
    },
  };
  const stored = await ctx.storage.insertVersion(
    { version, newKey: key ? null : { recoverableDays: ctx.recoverableDays }, expectLatest: latest ? { version: latest.version, rev: latest.rev } : null },
    [audit],
    ctx.now().toISOString(),
  );
  return toInfo(key ?? { name: spec.name, created: spec.created, deletedAt: null, recoverableDays: ctx.recoverableDays }, stored);
}

/** What the audit log keeps of a policy: its digest and flags, never needed in full (the key row has it). */
export function policyDetails(policy: ReleasePolicy | null): { policySha256: string | null; policyImmutable: boolean } {
  return { policySha256: policyDigest(policy), policyImmutable: policy?.immutable ?? false };
}

export async function liveKey(ctx: KeystoreContext, name: string): Promise<StoredKey> {
  const key = await ctx.storage.getKey(name);
  if (!key || key.deletedAt !== null) throw notFound(name);
  return key;
}

export function notFound(name: string, version?: string): KeystoreError {
  return new KeystoreError('ERR_KEYSTORE_NOT_FOUND', version === undefined ? `key "${name}" was not found` : `key "${name}" has no version ${version}`);
}

export function deleted(name: string): KeystoreError {
  return new KeystoreError('ERR_KEYSTORE_DELETED', `key "${name}" is deleted but recoverable; recover or purge it before reusing the name`);
}

export function immutable(name: string): KeystoreError {
  return new KeystoreError('ERR_KEYSTORE_POLICY_IMMUTABLE', `key "${name}" has an immutable release policy`);
}
