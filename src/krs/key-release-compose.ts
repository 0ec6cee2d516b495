import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { type JWTVerifyGetKey, createLocalJWKSet } from 'jose';
import type { Logger } from 'pino';
import { parseReleasePolicy } from '../../attestation/policy/index.js';
import { AuditLog } from '../../keys/audit/index.js';
import { Keystore, type SqliteStore, isKeystoreError, openSqliteStore } from '../../keys/keystore/index.js';
import { type CheckpointIdentity, openCheckpointIdentity } from './checkpoint-key-file.js';
import type { KrsConfig } from './config.js';
import { readPrivateFile } from './data-dir.js';
import { KrsStartupError } from './errors.js';
import { openKek } from './kek-setup.js';
import { OidcKeySource } from './oidc-keys.js';
import { type ReleaseIdentity, openReleaseIdentity } from './release-signer-file.js';

/** What key administration, release and the audit API run on, opened from the data directory. */
export interface KeyReleaseDeps {
  readonly store: SqliteStore;
  readonly keystore: Keystore;
  readonly auditLog: AuditLog;
  readonly release: ReleaseIdentity;
  readonly checkpoint: CheckpointIdentity;
  /** The static administrator token (trimmed), or null. */
  readonly adminToken: Buffer | null;
  /** Verification keys of administrators' JWTs (config adminAuth.jwt), or null. */
  readonly adminJwtKeys: JWTVerifyGetKey | null;
}

/**
 * Opens the keystore and audit log (`keystore.db`), the KEK, the checkpoint key, the release signer and the
 * administrator credentials. Every failure is a KrsStartupError; the store is closed again when a later step fails.
 */
export async function composeKeyRelease(config: KrsConfig, extras: { logger?: Logger; clock?: () => Date } = {}): Promise<KeyReleaseDeps> {
  const checkpoint = await openCheckpointIdentity(config.dataDir);
  const store = openStore(config, checkpoint);
  try {
    const kek = await openKek(config.kek, config.dataDir, store.keys, extras.logger);
    const keystore = new Keystore({
      storage: store.keys,
      kek,
      // The policy engine's parser: a policy the release path could not evaluate is refused when it is set.
      validatePolicy: (doc) => void parseReleasePolicy(doc),
      ...(extras.clock ? { now: extras.clock } : {}),
    });
    const release = await openReleaseIdentity(config.dataDir, { hostnames: hostnamesOf(config), ...(extras.logger ? { logger: extras.logger } : {}) });
    const adminToken = await readAdminToken(config.adminAuth.tokenFile);
    const adminJwtKeys = await adminKeys(config.adminAuth.jwt);
    if (!adminToken && !adminJwtKeys) extras.logger?.warn('no administrator credential is configured (adminAuth.tokenFile / --admin-token-file, or adminAuth.jwt): the key, release and audit APIs refuse every request');
    return { store, keystore, auditLog: new AuditLog(store.audit, extras.clock ? { now: extras.clock } : {}), release, checkpoint, adminToken, adminJwtKeys };
  } catch (e) {
    store.close();
    throw e;
  }
}

function openStore(config: KrsConfig, checkpoint: CheckpointIdentity): SqliteStore {
  try {
    return openSqliteStore(config.dataDir, { checkpoints: { signer: checkpoint.signer, every: config.auditCheckpointEvery } });
  } catch (cause) {
    throw new KrsStartupError('ERR_KEYSTORE', isKeystoreError(cause) ? `${cause.message} [${cause.code}]` : 'the keystore cannot be opened', { cause });
  }
}

/** DNS names the release-signing certificate is issued for (runners may check the host); IPs are left out. */
function hostnamesOf(config: KrsConfig): string[] {
  const names = new Set<string>();
  if (config.issuer) names.add(new URL(config.issuer).hostname);
  names.add(config.listen.host);
  return [...names].filter((h) => h !== '' && isIP(h.replace(/^\[|\]$/g, '')) === 0);
}

/** The administrator token file: private (0600), one printable token of at least 16 characters. */
async function readAdminToken(path: string | null): Promise<Buffer | null> {
  if (path === null) return null;
  const bytes = await readPrivateFile(path, 'ERR_ADMIN_AUTH');
  if (!bytes) throw new KrsStartupError('ERR_ADMIN_AUTH', `the administrator token file "${path}" does not exist`);
  const token = Buffer.from(bytes.toString('utf8').trim(), 'utf8');
  bytes.fill(0);
  if (token.length < 16 || !/^[\x21-\x7e]+$/.test(token.toString('latin1'))) {
    token.fill(0);
    throw new KrsStartupError('ERR_ADMIN_AUTH', `the administrator token in "${path}" must be one line of at least 16 printable characters without spaces`);
  }
  return token;
}

async function adminKeys(jwt: KrsConfig['adminAuth']['jwt']): Promise<JWTVerifyGetKey | null> {
  if (!jwt) return null;
  if (!jwt.jwksFile) return new OidcKeySource(jwt.issuer, { cacheSeconds: 3600 }).getKey;
  try {
    return createLocalJWKSet(JSON.parse(await readFile(jwt.jwksFile, 'utf8')));
  } catch (cause) {
    throw new KrsStartupError('ERR_ADMIN_AUTH', `adminAuth.jwt.jwksFile "${jwt.jwksFile}" is not a readable JWKS`, { cause });
  }
}
