import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { InputGuardian } from '../../../enclave-runner/guardians/input/input-guardian.js';
import { RULES } from '../../../enclave-runner/guardians/input/rules.js';
import { redact } from '../../../enclave-runner/guardians/output/detect.js';
import { OutputGuardian } from '../../../enclave-runner/guardians/output/output-guardian.js';
import { decodePayloads } from '../../../enclave-runner/guardians/text/decode.js';
import { normalise } from '../../../enclave-runner/guardians/text/normalise.js';

const SIZE = 100_000;

/** Inputs that make backtracking regexes blow up: long runs that almost match. */
function adversarial(): Array<[string, string]> {
  const rep = (s: string) => s.repeat(Math.ceil(SIZE / s.length)).slice(0, SIZE);
  return [
    ['letters', rep('a')],
    ['digits', rep('1')],
    ['digit groups', rep('12 ')],
    ['dashed digits', rep('1-')],
    ['dotted numbers', rep('1.')],
    ['colons', rep('a:')],
    ['at-signs', rep('a@')],
    ['dots in domain', rep('a.')],
    ['spaces', rep(' ')],
    ['newlines', rep('\n')],
    ['base64', rep('QUJD')],
    ['percent', rep('%4')],
    ['capitalised words', rep('Abc ')],
    ['upper words', rep('ABCD ')],
    ['attack verbs', rep('ignore ')],
    ['attack verbs and targets', rep('ignore previous ')],
    ['reveal without target', rep('reveal your ')],
    ['pem begins', rep('-----BEGIN ')],
    ['jwt prefixes', rep('eyJabcdefgh.')],
    ['house numbers', rep('12 Abc\n')],
    ['phone-like', rep('+1 (2')],
  ];
}

function time(fn: () => void): number {
  const s = performance.now();
  fn();
  return performance.now() - s;
}

describe('no catastrophic backtracking: every pattern on 100 KB of adversarial input', () => {
  for (const rule of RULES) {
    it(`rule ${rule.id} is bounded`, () => {
      for (const [, text] of adversarial()) {
        const t = time(() => rule.pattern.test(text));
        expect(t, rule.id).toBeLessThan(250);
      }
    });
  }

  const inputs = adversarial();
  for (const [name, text] of inputs) {
    it(`the whole pipeline stays bounded on ${name}`, () => {
      expect(time(() => normalise(text))).toBeLessThan(500);
      expect(time(() => decodePayloads(text))).toBeLessThan(1000);
      expect(time(() => redact(text))).toBeLessThan(2000);
    });
  }

  it('the input guardian scans 100 KB adversarial inputs in bounded time', () => {
    const g = new InputGuardian();
    for (const [name, text] of inputs) expect(time(() => g.scan(text)), name).toBeLessThan(2000);
  });

  it('the output stream stays bounded when a long token never ends', () => {
    const g = new OutputGuardian();
    const t = time(() => {
      for (let i = 0; i < 2000; i++) g.push('Zx9Qw3Er7Ty1Ui5Op2As8Df4Gh6Jk0L'.slice(i % 8, (i % 8) + 8));
      g.flush();
    });
    expect(t).toBeLessThan(5000);
  });
});
