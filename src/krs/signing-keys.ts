import { createPublicKey } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDataDir, readPrivateFile, writePrivateFileAtomic } from './data-dir.js';
import { KrsStartupError } from './errors.js';
import { SIGNING_KEYS_FILE, type SigningKey, generateSigningKey, parseSigningKeys, serializeSigningKeys } from './signing-key-file.js';

export { type SigningKey, kidOf } from './signing-key-file.js';

/** Published JWKS entry (azure-protocols.md §1.4): n/e for jose, x5c for MAA-style verifiers. */
export interface PublishedJwk {
  kid: string;
  kty: 'RSA';
  alg: 'RS256';
  use: 'sig';
  n: string;
  e: string;
  x5c: string[];
}

export interface SigningKeyStoreOptions {
  /** RSA size for a key made on first start. */
  readonly keyBits: number;
  readonly clock?: () => Date;
  /** How often, at most, the key file is checked for a rotation made by another process. Default 2 s. */
  readonly refreshIntervalMs?: number;
}

/**
 * The token-signing keys of one data directory (`signing-keys.json`, 0600). Created on first start; a
 * rotation written by `zt4ai krs rotate-signing-key` (another process) is picked up within the refresh
 * interval, so running replicas follow it without a restart.
 */
export class SigningKeyStore {
  private keys: readonly SigningKey[];
  private fileStamp: string;
  private lastCheck = 0;
  private readonly dataDir: string;
  private readonly path: string;
  private readonly clock: () => Date;
  private readonly refreshIntervalMs: number;

  private constructor(dataDir: string, keys: readonly SigningKey[], stamp: string, options: SigningKeyStoreOptions) {
    this.dataDir = dataDir;
    this.path = join(dataDir, SIGNING_KEYS_FILE);
    this.keys = keys;
    this.fileStamp = stamp;
    this.clock = options.clock ?? (() => new Date());
    this.refreshIntervalMs = options.refreshIntervalMs ?? 2000;
  }

  /** Loads the keys, making the first one when the file does not exist. Corrupt files throw KrsStartupError. */
  static async open(dataDir: string, options: SigningKeyStoreOptions): Promise<SigningKeyStore> {
    await ensureDataDir(dataDir);
    const path = join(dataDir, SIGNING_KEYS_FILE);
    if ((await readPrivateFile(path, 'ERR_SIGNING_KEYS')) === null) {
      const first = await generateSigningKey(options.keyBits, (options.clock ?? (() => new Date()))());
      // 'create' loses gracefully to a replica that wrote its key first; then everyone loads that one.
      await writePrivateFileAtomic(path, serializeSigningKeys([first]), 'create');
    }
    const { keys, stamp } = await load(path);
    return new SigningKeyStore(dataDir, keys, stamp, options);
  }

  /** The key new tokens are signed with. */
  async active(): Promise<SigningKey> {
    await this.refresh();
    return this.keys.find((k) => k.publishUntil === null)!;
  }

  /** The active key and every rotated-out key still inside its overlap, newest first. */
  async published(): Promise<SigningKey[]> {
    await this.refresh();
    const now = this.clock();
    return this.keys.filter((k) => k.publishUntil === null || k.publishUntil > now).sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  }

  /** In-process rotation (the same as the CLI's); the store reloads the result at once. */
  async rotate(options: RotateOptions): Promise<RotateResult> {
    const result = await rotateSigningKey(this.dataDir, { ...options, now: options.now ?? this.clock() });
    this.lastCheck = 0;
    await this.refresh();
    return result;
  }

  private async refresh(): Promise<void> {
    const now = Date.now();
    if (now - this.lastCheck < this.refreshIntervalMs) return;
    this.lastCheck = now;
    if ((await stampOf(this.path)) === this.fileStamp) return;
    // A broken file written by someone else must not take down a running service: keep the keys we have
    // (they are still valid); the next start-up will refuse the file loudly.
    try {
      const { keys, stamp } = await load(this.path);
      this.keys = keys;
      this.fileStamp = stamp;
    } catch {
      this.fileStamp = '';
    }
  }
}

/** The JWKS entry of a key (n, e from the certificate; x5c standard base64 DER). */
export function toPublishedJwk(key: SigningKey): PublishedJwk {
  const jwk = createPublicKey(key.privateKey).export({ format: 'jwk' });
  return { kid: key.kid, kty: 'RSA', alg: 'RS256', use: 'sig', n: jwk.n!, e: jwk.e!, x5c: [key.certificateDer.toString('base64')] };
}

export interface RotateOptions {
  readonly keyBits?: number;
  /** How long the previous active key stays published. */
  readonly overlapSeconds: number;
  /** Drop every previous key from /certs now (tokens they signed stop verifying). */
  readonly retirePrevious?: boolean;
  readonly now?: Date;
}

export interface RotateResult {
  readonly kid: string;
  /** kids published after the rotation, newest first. */
  readonly published: string[];
  /** kids removed from the file (past their overlap, or retired). */
  readonly removed: string[];
}

/**
 * Adds a new active key; the previous active key stays published for `overlapSeconds`, so tokens it signed
 * remain verifiable until they expire. Keys past their overlap are removed from the file. Rotations of one
 * data directory must not run concurrently (the file is read, changed and replaced atomically).
 */
export async function rotateSigningKey(dataDir: string, options: RotateOptions): Promise<RotateResult> {
  const path = join(dataDir, SIGNING_KEYS_FILE);
  const now = options.now ?? new Date();
  const { keys } = await load(path);
  const previous = keys.find((k) => k.publishUntil === null)!;
  const bits = options.keyBits ?? previous.privateKey.asymmetricKeyDetails?.modulusLength ?? 3072;
  const fresh = await generateSigningKey(bits, now);
  const publishUntil = new Date(now.getTime() + options.overlapSeconds * 1000);
  const aged = keys.map((k) => (k.publishUntil === null ? { ...k, publishUntil } : k));
  const kept = options.retirePrevious ? [] : aged.filter((k) => k.publishUntil! > now);
  const next = [fresh, ...kept];
  await writePrivateFileAtomic(path, serializeSigningKeys(next), 'replace');
  return { kid: fresh.kid, published: next.map((k) => k.kid), removed: keys.filter((k) => !kept.some((x) => x.kid === k.kid)).map((k) => k.kid) };
}

async function load(path: string): Promise<{ keys: SigningKey[]; stamp: string }> {
  const stamp = await stampOf(path);
  const bytes = await readPrivateFile(path, 'ERR_SIGNING_KEYS');
  if (!bytes) throw new KrsStartupError('ERR_SIGNING_KEYS', `no signing key file at "${path}": start the KRS once on this data directory to create it`);
  return { keys: parseSigningKeys(bytes.toString('utf8'), path), stamp };
}

async function stampOf(path: string): Promise<string> {
  try {
    const s = await stat(path);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return '';
  }
}
