import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { type KeyEncryptionKey, type KeyStorage, azureKeyVaultKek, generateKekFile, isKeystoreError, kekFromEnv, kekFromFile } from '../../keys/keystore/index.js';
import type { KekConfig } from './config-keys.js';
import { KrsStartupError } from './errors.js';

export const DEFAULT_KEK_FILE = 'kek.key';

/**
 * The key-encryption key the keystore wraps data keys with: a file, an environment variable or an Azure Key
 * Vault key. With none configured, `<dataDir>/kek.key` is used, and generated (0600) on first start only,
 * never while the store already holds keys: a replaced KEK would make every stored key unreadable.
 */
export async function openKek(config: KekConfig, dataDir: string, storage: KeyStorage, logger?: Logger): Promise<KeyEncryptionKey> {
  try {
    if (config && 'file' in config) return await kekFromFile(config.file);
    if (config && 'env' in config) return kekFromEnv(config.env);
    if (config && 'azureKeyId' in config) {
      // Loaded only here: @azure/identity adds most of a second to every start-up.
      const { DefaultAzureCredential } = await import('@azure/identity');
      return azureKeyVaultKek(config.azureKeyId, new DefaultAzureCredential());
    }
    return await defaultKek(dataDir, storage, logger);
  } catch (cause) {
    if (cause instanceof KrsStartupError) throw cause;
    throw new KrsStartupError('ERR_KEYSTORE', isKeystoreError(cause) ? `${cause.message} [${cause.code}]` : `the key-encryption key cannot be opened: ${(cause as Error).message}`, { cause });
  }
}

async function defaultKek(dataDir: string, storage: KeyStorage, logger?: Logger): Promise<KeyEncryptionKey> {
  const path = join(dataDir, DEFAULT_KEK_FILE);
  if (!(await exists(path))) {
    if ((await storage.scanVersions(null, 1)).length > 0) {
      throw new KrsStartupError('ERR_KEYSTORE', `the keystore holds keys but its key-encryption key "${path}" is missing: restore it, or configure kek (--kek-file)`);
    }
    try {
      await generateKekFile(path);
      logger?.warn({ file: path }, 'generated a key-encryption key in the data directory; in production keep the KEK apart from the keystore: --kek-file on another volume, or kek.azureKeyId (Azure Key Vault)');
    } catch (e) {
      // A replica starting at the same moment made it first: use theirs.
      if (!(await exists(path))) throw e;
    }
  }
  return kekFromFile(path);
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
