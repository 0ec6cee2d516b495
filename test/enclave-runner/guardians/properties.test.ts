import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputGuardian } from '../../../enclave-runner/guardians/input/input-guardian.js';
import { redact } from '../../../enclave-runner/guardians/output/detect.js';
import { OutputGuardian } from '../../../enclave-runner/guardians/output/output-guardian.js';

const guardian = new InputGuardian();

// Strings built from the characters the layers treat specially, plus arbitrary Unicode.
const special = fc.constantFrom('\u200b', '\u202e', 'о', 'е', '0', '1', '3', '@', '$', '%41', '=', '-', ':', '.', ' ', '\n', 'ignore ', 'previous ', 'instructions', 'Dr. ', 'John ', '4111', '-----BEGIN PRIVATE KEY-----', 'eyJ', 'AKIA', '<|im_start|>', String.fromCodePoint(0xe0041));
const hostile = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 400 }), fc.array(special, { maxLength: 120 }).map((xs) => xs.join('')), fc.string({ unit: 'binary', maxLength: 300 }));

describe('hostile input never throws and stays bounded', () => {
  it('the input guardian returns a verdict and a score in [0, 1]', () => {
    fc.assert(
      fc.property(hostile, fc.constantFrom('user' as const, 'document' as const), (text, kind) => {
        const s = performance.now();
        const r = guardian.scan(text, kind);
        expect(['allow', 'flag', 'block']).toContain(r.verdict);
        expect(r.score).toBeGreaterThanOrEqual(0);
        expect(r.score).toBeLessThanOrEqual(1);
        expect(performance.now() - s).toBeLessThan(200);
      }),
      { numRuns: 300 },
    );
  });

  it('redaction only replaces spans, and leaves text with no finding byte-identical', () => {
    fc.assert(
      fc.property(hostile, (text) => {
        const r = redact(text);
        if (r.spans.length === 0) expect(r.text).toBe(text);
        for (const s of r.spans) {
          expect(s.start).toBeGreaterThanOrEqual(0);
          expect(s.end).toBeLessThanOrEqual(text.length);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('streaming in random chunks emits exactly the one-shot redaction', () => {
    fc.assert(
      fc.property(hostile, fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 20 }), (text, sizes) => {
        const g = new OutputGuardian();
        let out = '';
        let i = 0;
        for (let k = 0; i < text.length; k++) {
          const n = sizes[k % sizes.length]!;
          out += g.push(text.slice(i, i + n));
          i += n;
        }
        out += g.flush();
        // Texts this short are decided with the whole answer in view, so the result is the same.
        expect(out).toBe(redact(text).text);
      }),
      { numRuns: 200 },
    );
  });
});
