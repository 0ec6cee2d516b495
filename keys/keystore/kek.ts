import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { KeystoreError, wipe } from './errors.js';

/** A data-encryption key wrapped by a KEK, with the id of the KEK (and its version) that can unwrap it. */
export interface WrappedDek {
  readonly kekId: string;
  readonly wrapped: Buffer;
}

/**
 * The key-encryption key (KEK) that protects every per-version data-encryption key (DEK) at rest. Kept this
 * small so a KEK can live in a file, an environment variable, Azure Key Vault or an HSM. `context` names the
 * key version the DEK belongs to; implementations that can bind it (AEAD associated data) must.
 */
export interface KeyEncryptionKey {
  /** Stable and non-secret: stored with each wrapped DEK to find the KEK that unwraps it. */
  readonly id: string;
  wrap(dek: Uint8Array, context: Uint8Array): Promise<WrappedDek>;
  /** Throws ERR_KEK_MISMATCH when `wrapped.kekId` is not this KEK's, ERR_KEK_UNWRAP when it fails. */
  unwrap(wrapped: WrappedDek, context: Uint8Array): Promise<Buffer>;
  /** Whether this KEK can unwrap DEKs wrapped under `kekId` (used to pick among old KEKs after a rotation). */
  handles(kekId: string): boolean;
}

const FORMAT = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * A KEK held in memory (read from a file or an environment variable): AES-256-GCM over the DEK with the
 * key version as associated data. Wrapped form: 0x01 || iv(12) || ciphertext || tag(16).
 */
export class LocalKek implements KeyEncryptionKey {
  readonly id: string;
  readonly #key: Buffer;

  /** Copies `key` (32 bytes); the caller wipes its own copy. */
  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new KeystoreError('ERR_KEK_FORMAT', `a key-encryption key is 32 bytes, not ${key.length}`);
    this.#key = Buffer.from(key);
    // An HMAC, not a hash of the key: the id identifies the KEK without being a cheap check for guesses.
    this.id = `local:${createHmac('sha256', this.#key).update('zt4ai keystore kek id v1').digest('base64url').slice(0, 22)}`;
  }

  handles(kekId: string): boolean {
    return kekId === this.id;
  }

  async wrap(dek: Uint8Array, context: Uint8Array): Promise<WrappedDek> {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv).setAAD(context);
    const ct = Buffer.concat([cipher.update(dek), cipher.final()]);
    return { kekId: this.id, wrapped: Buffer.concat([Buffer.from([FORMAT]), iv, ct, cipher.getAuthTag()]) };
  }

  async unwrap(wrapped: WrappedDek, context: Uint8Array): Promise<Buffer> {
    if (!this.handles(wrapped.kekId)) throw kekMismatch(wrapped.kekId, this.id);
    const w = wrapped.wrapped;
    if (w.length <= 1 + IV_BYTES + TAG_BYTES || w[0] !== FORMAT) throw new KeystoreError('ERR_KEK_UNWRAP', 'the wrapped data key has an unknown format');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, w.subarray(1, 1 + IV_BYTES)).setAAD(context);
    decipher.setAuthTag(w.subarray(w.length - TAG_BYTES));
    const out = decipher.update(w.subarray(1 + IV_BYTES, w.length - TAG_BYTES));
    try {
      decipher.final();
    } catch {
      wipe(out);
      throw new KeystoreError('ERR_KEK_UNWRAP', 'the data key does not authenticate under the key-encryption key (wrong KEK, or the row was changed)');
    }
    return out;
  }

  /** Zeroes the in-memory key; the object is unusable afterwards. */
  destroy(): void {
    wipe(this.#key);
  }
}

export function kekMismatch(kekId: string, configured: string): KeystoreError {
  return new KeystoreError('ERR_KEK_MISMATCH', `a data key was wrapped by KEK "${kekId}" but the configured KEK is "${configured}"`);
}

/** Unwraps with whichever of `keks` handles the DEK's KEK id (the current one first, then retired ones). */
export async function unwrapWithAny(keks: readonly KeyEncryptionKey[], wrapped: WrappedDek, context: Uint8Array): Promise<Buffer> {
  const kek = keks.find((k) => k.handles(wrapped.kekId));
  if (!kek) throw kekMismatch(wrapped.kekId, keks.map((k) => k.id).join('", "'));
  return kek.unwrap(wrapped, context);
}
