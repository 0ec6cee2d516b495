import type { AuditDraft } from '../audit/entry.js';
import { type KeystoreContext, seconds, toInfo } from './context.js';
import { immutable, liveKey, notFound, policyDetails } from './create-version.js';
import { attributesMac, corrupt } from './envelope.js';
import { KeystoreError, wipe } from './errors.js';
import { assertKeyName, normalizeVersion } from './names.js';
import { normalizeReleasePolicy, policyDigest } from './release-policy.js';
import type { StoredVersion, VersionPatch } from './storage.js';
import type { Actor, KeyUpdate, KeyVersionInfo, ReleasePolicy } from './types.js';
import { identityOf, protectedOf, unlockVersion } from './version-crypto.js';

/**
 * Key Vault's PATCH: enable/disable and the release policy of one version (the current one by default).
 * Refuses to change `exportable` (AKV.SKR.1003), a policy on a non-exportable key (1005) and any change of an
 * immutable policy (1020). The attributes' MAC is renewed; a version whose stored attributes no longer
 * authenticate can still be disabled (fail-safe) but nothing else.
 */
export async function updateKey(ctx: KeystoreContext, name: string, patch: KeyUpdate, who: Actor & { version?: string }): Promise<KeyVersionInfo> {
  assertKeyName(name);
  const key = await liveKey(ctx, name);
  const version = who.version === undefined ? undefined : normalizeVersion(who.version);
  const current = await ctx.storage.getVersion(name, version);
  if (!current) throw notFound(name, version);
  const releasePolicy = patch.releasePolicy === undefined ? undefined : checkPolicyChange(ctx, current, patch);
  if (patch.exportable !== undefined && patch.exportable !== current.exportable) {
    throw new KeystoreError('ERR_KEYSTORE_EXPORTABLE_FIXED', `key "${name}" is ${current.exportable ? '' : 'not '}exportable; that cannot be changed`);
  }
  const enabled = patch.enabled === undefined || patch.enabled === current.enabled ? undefined : patch.enabled;
  if (enabled === undefined && releasePolicy === undefined) return toInfo(key, current);

  const next = { ...current, ...(enabled === undefined ? {} : { enabled }), ...(releasePolicy === undefined ? {} : { releasePolicy }) };
  const { dek, macValid } = await unlockVersion(ctx, current);
  let mac: Buffer;
  try {
    if (!macValid && !(enabled === false && releasePolicy === undefined)) throw corrupt(current, 'attributes (enabled, exportable, key_ops or release policy)');
    // A tampered version being disabled keeps its broken MAC: it must stay unreleasable.
    mac = macValid ? attributesMac(dek, identityOf(current), protectedOf(next)) : current.mac;
  } finally {
    wipe(dek);
  }
  const now = ctx.now();
  const change: VersionPatch = { ...(enabled === undefined ? {} : { enabled }), ...(releasePolicy === undefined ? {} : { releasePolicy }), mac, updated: seconds(now) };
  const stored = await ctx.storage.updateVersion(name, current.version, current.rev, change, auditFor(current, enabled, releasePolicy, who.actor), now.toISOString());
  return toInfo(key, stored);
}

function checkPolicyChange(ctx: KeystoreContext, current: StoredVersion, patch: KeyUpdate): ReleasePolicy {
  const policy = normalizeReleasePolicy(patch.releasePolicy!, ctx.validatePolicy);
  if (!current.exportable) throw new KeystoreError('ERR_KEYSTORE_POLICY_NEEDS_EXPORTABLE', `key "${current.name}" is not exportable, so it cannot have a release policy`);
  if (current.releasePolicy?.immutable) throw immutable(current.name);
  return policy;
}

function auditFor(current: StoredVersion, enabled: boolean | undefined, policy: ReleasePolicy | undefined, actor: string): AuditDraft[] {
  const subject = { name: current.name, version: current.version };
  const out: AuditDraft[] = [];
  if (policy !== undefined) {
    out.push({ kind: 'policy-changed', subject, actor, details: { ...policyDetails(policy), previousPolicySha256: policyDigest(current.releasePolicy) } });
  }
  if (enabled !== undefined) out.push({ kind: enabled ? 'key-enabled' : 'key-disabled', subject, actor, details: {} });
  return out;
}
