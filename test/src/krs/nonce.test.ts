import { randomBytes } from 'node:crypto';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeBase64Url } from '../../../src/krs/base64url.js';
import { KrsError, KrsStartupError } from '../../../src/krs/errors.js';
import { ChallengeService, loadNonceKey } from '../../../src/krs/nonce.js';
import { removeTempDirs, tempDir } from './fixtures.js';

afterAll(removeTempDirs);

function service(options: { now?: () => number; replayProtection?: boolean; maxRemembered?: number; key?: Buffer } = {}) {
  const now = options.now ?? (() => Date.now());
  return new ChallengeService(options.key ?? randomBytes(32), {
    lifetimeSeconds: 120,
    clock: () => new Date(now()),
    replayProtection: options.replayProtection ?? true,
    ...(options.maxRemembered ? { maxRemembered: options.maxRemembered } : {}),
  });
}

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    return (e as KrsError).code;
  }
};

describe('stateless challenge nonces', () => {
  it('layout: version 1 | u64 expiry | 16 random | 32-byte HMAC, base64url (76 characters)', () => {
    let t = 1_700_000_000_000;
    const s = service({ now: () => t });
    const c = s.issue();
    const bytes = Buffer.from(c.nonce, 'base64url');
    expect(bytes.length).toBe(57);
    expect(bytes[0]).toBe(1);
    expect(Number(bytes.readBigUInt64BE(1))).toBe(1_700_000_120);
    expect(c.expiresAt.toISOString()).toBe(new Date(1_700_000_120_000).toISOString());
    expect(s.verify(c.nonce)).toBe(1_700_000_120);
    t += 119_999;
    expect(s.verify(c.nonce)).toBe(1_700_000_120);
    t += 1;
    expect(codeOf(() => s.verify(c.nonce))).toBe('ERR_NONCE_EXPIRED');
  });

  it('any change to any byte is refused as ERR_NONCE_INVALID (never as expired)', () => {
    const s = service();
    const bytes = Buffer.from(s.issue().nonce, 'base64url');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), (i, x) => {
        const changed = Buffer.from(bytes);
        changed[i] = changed[i]! ^ x;
        expect(codeOf(() => s.verify(changed.toString('base64url')))).toBe('ERR_NONCE_INVALID');
      }),
    );
  });

  it('an expiry pushed into the future without the key does not verify', () => {
    const s = service();
    const bytes = Buffer.from(s.issue().nonce, 'base64url');
    bytes.writeBigUInt64BE(bytes.readBigUInt64BE(1) + 3600n, 1);
    expect(codeOf(() => s.verify(bytes.toString('base64url')))).toBe('ERR_NONCE_INVALID');
  });

  it('malformed input: wrong length, other alphabet, padding, empty', () => {
    const s = service();
    const good = s.issue().nonce;
    for (const bad of ['', 'abc', `${good}A`, good.slice(1), `${good}==`, good.replace(/[-_]/g, '+'), ' '.repeat(76)]) {
      if (bad === good) continue;
      expect(codeOf(() => s.verify(bad)), bad).toBe('ERR_NONCE_INVALID');
    }
  });

  it('a nonce from another key is invalid; replicas sharing the key accept each other\'s', () => {
    const key = randomBytes(32);
    const a = service({ key });
    const b = service({ key });
    const c = service();
    const n = a.issue().nonce;
    expect(() => b.verify(n)).not.toThrow();
    expect(codeOf(() => c.verify(n))).toBe('ERR_NONCE_INVALID');
  });

  it('consume refuses a replay within one replica, forgets expired nonces, and fails closed when full', () => {
    let t = Date.now();
    const s = service({ now: () => t, maxRemembered: 2 });
    const [n1, n2, n3] = [s.issue(), s.issue(), s.issue()];
    s.consume(n1.nonce, s.verify(n1.nonce));
    expect(codeOf(() => s.consume(n1.nonce, 0))).toBe('ERR_NONCE_REPLAYED');
    s.consume(n2.nonce, s.verify(n2.nonce));
    expect(codeOf(() => s.consume(n3.nonce, s.verify(n3.nonce)))).toBe('ERR_OVERLOADED');
    t += 121_000;
    const n4 = s.issue();
    expect(() => s.consume(n4.nonce, s.verify(n4.nonce))).not.toThrow();
  });

  it('without replay protection a nonce can be used until it expires', () => {
    const s = service({ replayProtection: false });
    const n = s.issue();
    s.consume(n.nonce, s.verify(n.nonce));
    expect(() => s.consume(n.nonce, s.verify(n.nonce))).not.toThrow();
  });
});

describe('the nonce key', () => {
  it('is created once (32 bytes, 0600) and then reused; a configured key wins', async () => {
    const dir = tempDir();
    const k1 = await loadNonceKey(dir, null);
    expect(k1.length).toBe(32);
    expect(statSync(join(dir, 'nonce.key')).mode & 0o777).toBe(0o600);
    expect((await loadNonceKey(dir, null)).equals(k1)).toBe(true);
    const shared = randomBytes(32);
    expect((await loadNonceKey(dir, shared.toString('base64'))).equals(shared)).toBe(true);
  });

  it('a key file of the wrong size stops start-up instead of being replaced', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'nonce.key'), randomBytes(7), { mode: 0o600 });
    await expect(loadNonceKey(dir, null)).rejects.toThrow(KrsStartupError);
  });
});

describe('strict base64url', () => {
  it('round-trips any bytes, padded or not', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const unpadded = Buffer.from(bytes).toString('base64url');
        const padded = Buffer.from(bytes).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
        expect(decodeBase64Url(unpadded, 'f').equals(Buffer.from(bytes))).toBe(true);
        expect(decodeBase64Url(padded, 'f').equals(Buffer.from(bytes))).toBe(true);
      }),
    );
  });

  it('refuses characters outside the alphabet, broken padding and non-canonical last characters', () => {
    for (const bad of ['ab+c', 'ab/c', 'ab c', 'abc=d', 'abcde=', 'a', 'abc==', 'ab=', 'AB', 'AAB']) {
      expect(() => decodeBase64Url(bad, 'field'), bad).toThrow(KrsError);
    }
    expect(() => decodeBase64Url('AB', 'field')).toThrow(/non-zero unused bits/);
  });
});
