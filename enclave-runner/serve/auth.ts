import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiKeyConfig } from '../config/types.js';

/**
 * API keys: the configuration holds only SHA-256 digests; a bearer key is hashed and compared with each in
 * constant time. Returns the key's id (what logs, metrics and the session guard see), or null.
 */
export class ApiKeys {
  readonly #keys: ReadonlyArray<{ id: string; digest: Buffer }>;

  constructor(keys: readonly ApiKeyConfig[]) {
    this.#keys = keys.map((k) => ({ id: k.id, digest: Buffer.from(k.sha256, 'hex') }));
  }

  /** No keys configured: the API is open (on loopback, or behind something that authenticates). */
  get required(): boolean {
    return this.#keys.length > 0;
  }

  identify(authorization: string | undefined): string | null {
    const m = /^Bearer ([\x21-\x7e]+)$/i.exec(authorization?.trim() ?? '');
    if (!m) return null;
    const digest = createHash('sha256').update(m[1]!, 'utf8').digest();
    let found: string | null = null;
    // Compare with every key, so the time taken does not tell which one (if any) matched.
    for (const k of this.#keys) if (timingSafeEqual(k.digest, digest) && found === null) found = k.id;
    return found;
  }
}
