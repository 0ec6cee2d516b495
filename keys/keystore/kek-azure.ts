import type { TokenCredential } from '@azure/identity';
import { CryptographyClient, type CryptographyClientOptions } from '@azure/keyvault-keys';
import { KeystoreError, causeName } from './errors.js';
import { type KeyEncryptionKey, type WrappedDek, kekMismatch } from './kek.js';

/** The part of `@azure/keyvault-keys`' CryptographyClient this KEK uses; tests pass a fake. */
export interface KeyWrapClient {
  wrapKey(algorithm: 'RSA-OAEP-256', key: Uint8Array): Promise<{ result: Uint8Array; keyID?: string }>;
  unwrapKey(algorithm: 'RSA-OAEP-256', encryptedKey: Uint8Array): Promise<{ result: Uint8Array }>;
}

const ALGORITHM = 'RSA-OAEP-256';
const PREFIX = 'azure-kv:';

/** `https://vault/keys/name[/version]` split; anything else is refused. */
function parseKeyId(keyId: string): { base: string; version: string | undefined } {
  const m = /^(https:\/\/[^/?#]+\/keys\/[0-9A-Za-z-]{1,127})(?:\/([0-9A-Za-z]{1,64}))?\/?$/.exec(keyId);
  if (!m) throw new KeystoreError('ERR_KEK_SOURCE', `"${keyId.slice(0, 200)}" is not a Key Vault key identifier (https://<vault>/keys/<name>[/<version>])`);
  return { base: m[1]!, version: m[2] };
}

/**
 * A KEK in Azure Key Vault or Managed HSM: DEKs are wrapped remotely with RSA-OAEP-256 and never leave in clear.
 * Each DEK records the versioned key id that wrapped it, so rotating the vault key keeps old DEKs unwrappable.
 * The only module that touches the Azure SDK.
 */
export class AzureKeyVaultKek implements KeyEncryptionKey {
  readonly id: string;
  readonly #base: string;
  readonly #clientFor: (keyId: string) => KeyWrapClient;
  readonly #clients = new Map<string, KeyWrapClient>();

  /** `keyId` may be versionless (new DEKs use the vault's current version). */
  constructor(keyId: string, clientFor: (keyId: string) => KeyWrapClient) {
    this.#base = parseKeyId(keyId).base;
    this.id = `${PREFIX}${keyId.replace(/\/$/, '')}`;
    this.#clientFor = clientFor;
  }

  handles(kekId: string): boolean {
    if (!kekId.startsWith(PREFIX)) return false;
    try {
      return parseKeyId(kekId.slice(PREFIX.length)).base === this.#base;
    } catch {
      return false;
    }
  }

  async wrap(dek: Uint8Array, _context: Uint8Array): Promise<WrappedDek> {
    const keyId = this.id.slice(PREFIX.length);
    let out: { result: Uint8Array; keyID?: string };
    try {
      out = await this.#client(keyId).wrapKey(ALGORITHM, dek);
    } catch (cause) {
      throw new KeystoreError('ERR_KEK_REMOTE', `Key Vault wrapKey with ${keyId} failed: ${causeName(cause)}`, { cause });
    }
    // Key Vault answers with the versioned id; keeping it pins the DEK to the key version that can unwrap it.
    const wrappedBy = out.keyID !== undefined && this.handles(`${PREFIX}${out.keyID}`) ? out.keyID : keyId;
    return { kekId: `${PREFIX}${wrappedBy}`, wrapped: Buffer.from(out.result) };
  }

  async unwrap(wrapped: WrappedDek, _context: Uint8Array): Promise<Buffer> {
    if (!this.handles(wrapped.kekId)) throw kekMismatch(wrapped.kekId, this.id);
    const keyId = wrapped.kekId.slice(PREFIX.length);
    let out: { result: Uint8Array };
    try {
      out = await this.#client(keyId).unwrapKey(ALGORITHM, wrapped.wrapped);
    } catch (cause) {
      throw new KeystoreError('ERR_KEK_REMOTE', `Key Vault unwrapKey with ${keyId} failed: ${causeName(cause)}`, { cause });
    }
    const dek = Buffer.from(out.result);
    out.result.fill(0);
    if (dek.length !== 32) {
      dek.fill(0);
      throw new KeystoreError('ERR_KEK_UNWRAP', `Key Vault unwrapped a data key of ${dek.length} bytes, not 32`);
    }
    return dek;
  }

  #client(keyId: string): KeyWrapClient {
    let c = this.#clients.get(keyId);
    if (!c) {
      c = this.#clientFor(keyId);
      this.#clients.set(keyId, c);
    }
    return c;
  }
}

/** A KEK backed by the real `@azure/keyvault-keys` CryptographyClient with an `@azure/identity` credential. */
export function azureKeyVaultKek(keyId: string, credential: TokenCredential, options?: CryptographyClientOptions): AzureKeyVaultKek {
  return new AzureKeyVaultKek(keyId, (id) => new CryptographyClient(id, credential, options));
}
