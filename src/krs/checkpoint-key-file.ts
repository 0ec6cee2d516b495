import { createPublicKey } from 'node:crypto';
import { join } from 'node:path';
import { type CheckpointSigner, createCheckpointSigner, generateCheckpointKey } from '../../keys/audit/index.js';
import { readPrivateFile, writePrivateFileAtomic } from './data-dir.js';
import { KrsStartupError } from './errors.js';

export const CHECKPOINT_KEY_FILE = 'audit-checkpoint.key';
export const CHECKPOINT_PUBLIC_KEY_FILE = 'audit-checkpoint.pub.pem';

/** The audit checkpoint signer and its public key (PEM, what auditors verify checkpoints with). */
export interface CheckpointIdentity {
  readonly signer: CheckpointSigner;
  readonly publicKeyPem: string;
}

/**
 * The Ed25519 key that signs audit checkpoints: `<dataDir>/audit-checkpoint.key` (PKCS#8, 0600), made on
 * first start, with its public half beside it (`audit-checkpoint.pub.pem`) for `zt4ai audit verify`.
 * Auditors should pin the public key they fetched once (GET /audit/checkpoint-key) rather than trust this file.
 */
export async function openCheckpointIdentity(dataDir: string): Promise<CheckpointIdentity> {
  const path = join(dataDir, CHECKPOINT_KEY_FILE);
  try {
    let pem = await readPrivateFile(path, 'ERR_KEYSTORE');
    if (!pem) {
      await writePrivateFileAtomic(path, generateCheckpointKey().privateKeyPem, 'create');
      pem = (await readPrivateFile(path, 'ERR_KEYSTORE'))!;
    }
    const signer = createCheckpointSigner(pem.toString('utf8'));
    const publicKeyPem = createPublicKey(pem.toString('utf8')).export({ type: 'spki', format: 'pem' }).toString();
    await writePrivateFileAtomic(join(dataDir, CHECKPOINT_PUBLIC_KEY_FILE), publicKeyPem, 'create');
    return { signer, publicKeyPem };
  } catch (cause) {
    if (cause instanceof KrsStartupError) throw cause;
    throw new KrsStartupError('ERR_KEYSTORE', `the audit checkpoint key "${path}" cannot be used: ${(cause as Error).message}`, { cause });
  }
}
