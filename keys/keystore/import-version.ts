import type { KeystoreContext } from './context.js';
import { type IfExists, insert, newVersionSpec } from './create-version.js';
import { wipe } from './errors.js';
import { importedKeyType, importedMaterial } from './import-material.js';
import { assertKeyName } from './names.js';
import type { Actor, ImportKeyInput, KeyVersionInfo } from './types.js';

/**
 * Key Vault's import (PUT /keys/{name}): the caller's material becomes a new key, or a new version of an
 * existing one, under the same rules as create (exportable needs a policy and only it may have one,
 * exportability fixed, immutable policies kept). The audit entry is `key-created` (or `key-rotated`) with
 * `imported: true`. The material is wiped once sealed, or on refusal.
 */
export async function importKey(ctx: KeystoreContext, name: string, input: ImportKeyInput, who: Actor & { ifExists?: IfExists }): Promise<KeyVersionInfo> {
  assertKeyName(name);
  const kty = importedKeyType(input.key, input.hsm);
  const supplied = importedMaterial(input.key, kty);
  try {
    const { spec, key, latest } = await newVersionSpec(
      ctx,
      name,
      {
        kty,
        keySize: supplied.keySize,
        ...(input.key.key_ops === undefined ? {} : { keyOps: input.key.key_ops }),
        ...(input.enabled === undefined ? {} : { enabled: input.enabled }),
        ...(input.exportable === undefined ? {} : { exportable: input.exportable }),
        ...(input.releasePolicy === undefined ? {} : { releasePolicy: input.releasePolicy }),
      },
      who.ifExists,
    );
    return await insert(ctx, spec, key, latest, who.actor, { material: supplied.material, publicKey: supplied.publicKey });
  } finally {
    wipe(supplied.material);
  }
}
