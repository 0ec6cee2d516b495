import { createPrivateKey } from 'node:crypto';
import { type KeystoreContext, toInfo } from './context.js';
import { liveKey, notFound } from './create-version.js';
import { corrupt, dekContext, openMaterial } from './envelope.js';
import { KeystoreError, type KeystoreErrorCode, isKeystoreError, wipe } from './errors.js';
import { baseType } from './material.js';
import { assertKeyName, normalizeVersion } from './names.js';
import type { StoredVersion } from './storage.js';
import type { Actor, KeyVersionInfo } from './types.js';
import { identityOf, withAuthenticDek } from './version-crypto.js';

export interface ExportOptions {
  /** A specific version; the current one by default. */
  readonly version?: string;
  /**
   * Decides the release on the integrity-checked key (evaluate `key.releasePolicy` here, not on an earlier
   * `get`). Throw to refuse: the material is then never decrypted and the error propagates unchanged.
   */
  readonly authorize?: (key: KeyVersionInfo) => void | Promise<void>;
}

/** A released key's private material. `material` is raw bytes (oct) or PKCS#8 DER (RSA): wipe it after use. */
export interface ExportedKey {
  readonly key: KeyVersionInfo;
  readonly material: Buffer;
}

/**
 * The private material of an enabled, exportable key version with a release policy, for wrapping to a TEE.
 * Internal to the KRS: it must only be called on the release path, and the result must be wiped.
 */
export async function exportForRelease(ctx: KeystoreContext, name: string, options: ExportOptions = {}): Promise<ExportedKey> {
  assertKeyName(name);
  const key = await liveKey(ctx, name);
  const version = options.version === undefined ? undefined : normalizeVersion(options.version);
  const v = await ctx.storage.getVersion(name, version);
  if (!v) throw notFound(name, version);
  if (!v.enabled) throw new KeystoreError('ERR_KEYSTORE_DISABLED', `key "${name}" version ${v.version} is disabled`);
  if (!v.exportable || v.releasePolicy === null) throw new KeystoreError('ERR_KEYSTORE_NOT_EXPORTABLE', `key "${name}" version ${v.version} is not exportable`);
  const info = toInfo(key, v);
  const material = await withAuthenticDek(ctx, v, async (dek) => {
    await options.authorize?.(info);
    return openMaterial(dek, identityOf(v), v.material);
  });
  return { key: info, material };
}

/** A version that failed `checkIntegrity`. */
export interface IntegrityFailure {
  readonly name: string;
  readonly version: string;
  readonly code: KeystoreErrorCode;
  readonly message: string;
}

/**
 * Opens every stored version (deleted keys too): DEK unwraps, attributes authenticate, material decrypts and,
 * for RSA, matches the stored public key. For `zt4ai keys fsck`-style checks and the crash tests.
 */
export async function checkIntegrity(ctx: KeystoreContext): Promise<{ checked: number; failures: IntegrityFailure[] }> {
  const failures: IntegrityFailure[] = [];
  let checked = 0;
  let after: { name: string; ord: number } | null = null;
  for (;;) {
    const page = await ctx.storage.scanVersions(after, 200);
    for (const v of page) {
      checked += 1;
      try {
        await withAuthenticDek(ctx, v, (dek) => checkMaterial(v, openMaterial(dek, identityOf(v), v.material)));
      } catch (e) {
        if (!isKeystoreError(e)) throw e;
        failures.push({ name: v.name, version: v.version, code: e.code, message: e.message });
      }
    }
    const last = page[page.length - 1];
    if (!last) break;
    after = { name: last.name, ord: last.ord };
  }
  return { checked, failures };
}

function checkMaterial(v: StoredVersion, material: Buffer): void {
  try {
    if (baseType(v.kty) === 'oct') {
      if (material.length * 8 !== v.keySize) throw corrupt(v, 'material');
      return;
    }
    const jwk = createPrivateKey({ key: material, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' });
    if (jwk.n !== v.publicKey?.n || jwk.e !== v.publicKey?.e) throw corrupt(v, 'public key');
  } finally {
    wipe(material);
  }
}

/**
 * Re-wraps every DEK that the current KEK did not wrap (after a KEK rotation: configure the new KEK first and
 * the old one among the retired KEKs, run this, then drop the old one). Material and MACs are unchanged.
 */
export async function rewrapDeks(ctx: KeystoreContext, who: Actor): Promise<number> {
  let count = 0;
  let after: { name: string; ord: number } | null = null;
  for (;;) {
    const page = await ctx.storage.scanVersions(after, 200);
    for (const v of page) {
      if (ctx.keks[0].handles(v.dek.kekId)) continue;
      await withAuthenticDek(ctx, v, async (dek) => {
        const wrapped = await ctx.keks[0].wrap(dek, dekContext(identityOf(v)));
        const audit = [{ kind: 'key-updated' as const, subject: { name: v.name, version: v.version }, actor: who.actor, details: { rewrappedFrom: v.dek.kekId, rewrappedTo: wrapped.kekId } }];
        await ctx.storage.updateVersion(v.name, v.version, v.rev, { dek: wrapped, updated: v.updated }, audit, ctx.now().toISOString());
      });
      count += 1;
    }
    const last = page[page.length - 1];
    if (!last) break;
    after = { name: last.name, ord: last.ord };
  }
  return count;
}
