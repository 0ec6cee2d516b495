import { type KeyObject, createPublicKey, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../../../keys/audit/audit-log.js';
import { createCheckpointSigner, generateCheckpointKey } from '../../../keys/audit/checkpoint.js';
import { LocalKek } from '../../../keys/keystore/kek.js';
import { Keystore, type KeystoreOptions } from '../../../keys/keystore/keystore.js';
import { encodeReleasePolicy } from '../../../keys/keystore/release-policy.js';
import { type SqliteStore, openSqliteStore } from '../../../keys/keystore/sqlite/open.js';

/** A release policy document as Key Vault's grammar writes one. */
export const POLICY_DOC = { version: '1.0.0', anyOf: [{ authority: 'https://krs.example.com', allOf: [{ claim: 'x-ms-sevsnpvm-is-debuggable', equals: false }] }] };
export const POLICY = { data: encodeReleasePolicy(POLICY_DOC) };
export const OTHER_POLICY = { data: encodeReleasePolicy({ ...POLICY_DOC, anyOf: [{ authority: 'https://other.example.com', allOf: [{ claim: 'a', equals: 'b' }] }] }) };
export const ADMIN = { actor: 'admin@test' };
export const BASE_URL = 'https://krs.example.com';

export interface TestStore {
  readonly dir: string;
  readonly store: SqliteStore;
  readonly keystore: Keystore;
  readonly audit: AuditLog;
  readonly kek: LocalKek;
  readonly kekBytes: Buffer;
  readonly checkpointKey: KeyObject;
  readonly checkpointPrivatePem: string;
  close(): void;
}

/** A keystore in a fresh temporary data directory with a random KEK and checkpoints every `every` entries. */
export function openTestStore(options: { every?: number; dir?: string; kekBytes?: Buffer; checkpointPrivatePem?: string; keystore?: Partial<KeystoreOptions> } = {}): TestStore {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'zt4ai-keystore-'));
  const kekBytes = options.kekBytes ?? randomBytes(32);
  const kek = new LocalKek(kekBytes);
  const checkpointPrivatePem = options.checkpointPrivatePem ?? generateCheckpointKey().privateKeyPem;
  const store = openSqliteStore(dir, { checkpoints: { signer: createCheckpointSigner(checkpointPrivatePem), every: options.every ?? 5 } });
  const keystore = new Keystore({ storage: store.keys, kek, ...options.keystore });
  return {
    dir,
    store,
    keystore,
    audit: new AuditLog(store.audit),
    kek,
    kekBytes,
    checkpointKey: createPublicKey(checkpointPrivatePem),
    checkpointPrivatePem,
    close: () => {
      store.close();
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `fn` and returns what it threw (fails the test when it does not throw). */
export async function caught(fn: () => unknown): Promise<{ code?: string; message: string }> {
  try {
    await fn();
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('expected a throw');
}
