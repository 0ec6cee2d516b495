import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isKeyError } from '../../../keys/errors.js';
import { FIXED_HEADER_LENGTH, MAGIC } from '../../../keys/sealing/format.js';
import { encodeHeader, parsePrelude } from '../../../keys/sealing/header.js';
import { decodeMeta } from '../../../keys/sealing/meta.js';

const meta = { name: 'weights/model-00001-of-00002.safetensors', kid: 'https://vault.example/keys/kek/1', wrap: 'RSA-OAEP-256', wrappedKey: Buffer.alloc(384, 9), omsRootDigest: 'ab'.repeat(32), omsBundleSha256: 'cd'.repeat(32) } as const;
const valid = Buffer.concat([encodeHeader({ chunkSize: 1 << 20, plaintextSize: 123_456_789, salt: Buffer.alloc(32, 1), noncePrefix: Buffer.alloc(7, 2), meta }), Buffer.alloc(64, 3)]);

/** Parsing must either succeed or throw a KeyError: never a RangeError, TypeError or SyntaxError. */
function onlyTyped(bytes: Uint8Array): void {
  try {
    parsePrelude(bytes);
  } catch (e) {
    if (!isKeyError(e)) throw e;
  }
}

describe('the prelude parser throws only typed errors', () => {
  it('parses what the encoder writes', () => {
    const h = parsePrelude(valid);
    expect(h).toMatchObject({ chunkSize: 1 << 20, plaintextSize: 123_456_789, meta: { ...meta, wrappedKey: meta.wrappedKey } });
    expect(h.preludeLength).toBe(valid.length);
  });

  it('random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (b) => onlyTyped(b)), { numRuns: 2000 });
  });

  it('random bytes behind a valid magic, version and algorithm', () => {
    const arb = fc.uint8Array({ minLength: 0, maxLength: 700 }).map((b) => Buffer.concat([MAGIC, Buffer.from([1, 1]), Buffer.from(b)]));
    fc.assert(fc.property(arb, (b) => onlyTyped(b)), { numRuns: 2000 });
  });

  it('a valid prelude with random bytes overwritten, truncated or extended', () => {
    const arb = fc.record({
      edits: fc.array(fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
      cut: fc.nat({ max: valid.length + 20 }),
    });
    fc.assert(
      fc.property(arb, ({ edits, cut }) => {
        const b = Buffer.concat([valid, Buffer.alloc(20, 0x7b)]);
        for (const [i, v] of edits) b[i] = v;
        onlyTyped(b.subarray(0, cut));
      }),
      { numRuns: 3000 },
    );
  });

  it('random metadata JSON with a valid fixed header', () => {
    const json = fc.oneof(fc.json(), fc.string(), fc.jsonValue().map((v) => JSON.stringify({ ...meta, name: v })), fc.dictionary(fc.string(), fc.string()).map((d) => JSON.stringify(d)));
    fc.assert(
      fc.property(json, (text) => {
        const m = Buffer.from(text, 'utf8');
        const b = Buffer.concat([valid.subarray(0, FIXED_HEADER_LENGTH), m, Buffer.alloc(64)]);
        b.writeUInt32BE(m.length, 61);
        onlyTyped(b);
        try {
          decodeMeta(m);
        } catch (e) {
          if (!isKeyError(e)) throw e;
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('a name outside the model, an unknown field or a bad digest is refused', () => {
    for (const bad of [{ name: '../x' }, { name: '/etc/passwd' }, { extra: 'x' }, { oms_root_digest: 'sha256:xyz' }, { wrap: 'A256KW' }]) {
      const m = { name: 'a', kid: 'k', wrap: 'dir', oms_root_digest: `sha256:${'0'.repeat(64)}`, ...bad };
      expect(() => decodeMeta(Buffer.from(JSON.stringify(m)))).toThrow(expect.objectContaining({ code: 'ERR_SEAL_META_MALFORMED' }));
    }
  });
});
