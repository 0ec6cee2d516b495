import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import { readPrivateFile, writePrivateFileAtomic } from './data-dir.js';
import { KrsError, KrsStartupError } from './errors.js';

/** A server challenge: put `nonce` in the runtime-data JSON as `"nonce"` before `expiresAt`. */
export interface Challenge {
  readonly nonce: string;
  readonly expiresAt: Date;
}

export interface ChallengeOptions {
  readonly lifetimeSeconds: number;
  readonly clock: () => Date;
  /** Remember consumed nonces until they expire. Protects one replica only: replicas share no state. */
  readonly replayProtection: boolean;
  /** Upper bound on remembered nonces; beyond it consumption fails closed with ERR_OVERLOADED. */
  readonly maxRemembered?: number;
}

const VERSION = 1;
const RANDOM_BYTES = 16;
const MAC_BYTES = 32;
/** version (1) | expiry, u64 big-endian Unix seconds (8) | random (16) | HMAC-SHA256 of those 25 bytes (32). */
const NONCE_BYTES = 1 + 8 + RANDOM_BYTES + MAC_BYTES;
const NONCE_KEY_FILE = 'nonce.key';

/**
 * Stateless challenges: the server keeps no list of what it issued; a nonce carries its own expiry and a MAC
 * under a key only the service (and its replicas, when they share the key) holds. Verification is a MAC
 * check in constant time and a clock comparison.
 */
export class ChallengeService {
  private readonly macKey: Buffer;
  private readonly options: ChallengeOptions;
  private readonly used = new Map<string, number>();

  constructor(secret: Uint8Array, options: ChallengeOptions) {
    if (secret.length < 32) throw new RangeError('the nonce key must be at least 32 bytes');
    // A derived key keeps this MAC apart from any other use someone might make of the same secret.
    this.macKey = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'zt4ai krs challenge nonce v1', 32));
    this.options = options;
  }

  issue(): Challenge {
    const expiresSeconds = Math.floor(this.options.clock().getTime() / 1000) + this.options.lifetimeSeconds;
    const body = Buffer.alloc(1 + 8 + RANDOM_BYTES);
    body.writeUInt8(VERSION, 0);
    body.writeBigUInt64BE(BigInt(expiresSeconds), 1);
    randomBytes(RANDOM_BYTES).copy(body, 9);
    const nonce = Buffer.concat([body, this.mac(body)]).toString('base64url');
    return { nonce, expiresAt: new Date(expiresSeconds * 1000) };
  }

  /** Throws ERR_NONCE_INVALID (malformed or forged) or ERR_NONCE_EXPIRED; returns the expiry in seconds. */
  verify(nonce: string): number {
    const bytes = /^[A-Za-z0-9_-]+$/.test(nonce) ? Buffer.from(nonce, 'base64url') : Buffer.alloc(0);
    if (bytes.length !== NONCE_BYTES || bytes[0] !== VERSION || bytes.toString('base64url') !== nonce) {
      throw new KrsError('ERR_NONCE_INVALID', 'the nonce in runtimeData is malformed: it was not issued by POST /attest/challenge');
    }
    const body = bytes.subarray(0, NONCE_BYTES - MAC_BYTES);
    if (!timingSafeEqual(this.mac(body), bytes.subarray(NONCE_BYTES - MAC_BYTES))) {
      throw new KrsError('ERR_NONCE_INVALID', 'the nonce in runtimeData does not carry this service\'s MAC: it was not issued here');
    }
    const expires = Number(body.readBigUInt64BE(1));
    if (this.nowSeconds() >= expires) throw new KrsError('ERR_NONCE_EXPIRED');
    return expires;
  }

  /**
   * Marks a verified nonce used. Call it synchronously right before issuing the token, after every other
   * check: the check-and-set then cannot interleave with another request for the same nonce.
   */
  consume(nonce: string, expiresSeconds: number): void {
    if (!this.options.replayProtection) return;
    this.prune();
    if (this.used.has(nonce)) throw new KrsError('ERR_NONCE_REPLAYED');
    if (this.used.size >= (this.options.maxRemembered ?? 100_000)) throw new KrsError('ERR_OVERLOADED', 'too many outstanding challenges; retry later');
    this.used.set(nonce, expiresSeconds);
  }

  private prune(): void {
    const now = this.nowSeconds();
    // Insertion order is close to expiry order; stopping at the first live entry keeps pruning O(expired).
    for (const [nonce, expires] of this.used) {
      if (expires > now) break;
      this.used.delete(nonce);
    }
  }

  private mac(body: Buffer): Buffer {
    return createHmac('sha256', this.macKey).update(body).digest();
  }

  private nowSeconds(): number {
    return Math.floor(this.options.clock().getTime() / 1000);
  }
}

/**
 * The nonce MAC secret: the configured one (base64, shared by replicas), else `<dataDir>/nonce.key`, made
 * on first start (32 random bytes, 0600). A file of the wrong size fails start-up rather than being replaced.
 */
export async function loadNonceKey(dataDir: string, configured: string | null): Promise<Buffer> {
  if (configured) return Buffer.from(configured, 'base64');
  const path = join(dataDir, NONCE_KEY_FILE);
  let key = await readPrivateFile(path, 'ERR_NONCE_KEY');
  if (!key) {
    await writePrivateFileAtomic(path, randomBytes(32), 'create');
    key = await readPrivateFile(path, 'ERR_NONCE_KEY');
  }
  if (key?.length !== 32) {
    throw new KrsStartupError('ERR_NONCE_KEY', `"${path}" is not a 32-byte nonce key (${key?.length ?? 0} bytes); restore it or delete it to make a new one (outstanding challenges then become invalid)`);
  }
  return key;
}
