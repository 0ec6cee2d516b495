import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  OPERATORS,
  PolicyError,
  type ScalarValue,
  evaluateReleasePolicy,
  explainDecision,
  parseReleasePolicy,
  serializeReleasePolicy,
} from '../../../attestation/policy/index.js';

/** Parsing either returns a policy or throws a PolicyError; anything else is a bug. */
function parseOrPolicyError(input: unknown): void {
  try {
    parseReleasePolicy(input);
  } catch (e) {
    if (!(e instanceof PolicyError)) throw e;
  }
}

const scalar: fc.Arbitrary<ScalarValue> = fc.oneof(fc.string({ maxLength: 12 }), fc.integer({ min: -1000, max: 1000 }), fc.boolean(), fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (Object.is(d, -0) ? 0 : d)));
const claimName = fc.constantFrom('a', 'b', 'x-ms-sevsnpvm-vmpl', 'n.m', 'x-zt4ai-reported-tcb.snp');

/** Random conditions shaped like the grammar, with valid and invalid values mixed in. */
const condition = fc.oneof(
  fc.record({ claim: claimName, op: fc.constantFrom(...OPERATORS), value: fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }), fc.constant(null)) }).map(({ claim, op, value }) => ({ claim, [op]: value })),
  fc.record({ claim: claimName, equals: scalar }),
);
const grammarLike = fc.record({
  version: fc.constantFrom('1.0.0', '1.0', '2', undefined),
  anyOf: fc.array(
    fc.record({
      authority: fc.constantFrom('https://a.example', 'https://a.example/', 'nope', 'http://127.0.0.1:8443'),
      allOf: fc.array(fc.oneof(condition, fc.record({ anyOf: fc.array(condition, { maxLength: 3 }) })), { maxLength: 4 }),
    }),
    { maxLength: 3 },
  ),
});

/** Conditions that are always valid: each operator with a value of the type it takes. */
const numeric = fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: 0, max: 1000 }).map(String), fc.integer({ min: 0, max: 4096 }).map((n) => `0x${n.toString(16)}`));
const validCondition = fc.oneof(
  fc.record({ claim: claimName, op: fc.constantFrom('equals', 'notEquals'), value: scalar }).map(({ claim, op, value }) => ({ claim, [op]: value })),
  fc.record({ claim: claimName, op: fc.constantFrom('greater', 'greaterOrEquals', 'less', 'lessOrEquals'), value: numeric }).map(({ claim, op, value }) => ({ claim, [op]: value })),
  fc.record({ claim: claimName, exists: fc.boolean() }),
  fc.record({ claim: claimName, in: fc.array(scalar, { minLength: 1, maxLength: 4 }) }),
);
const validList = <T>(item: fc.Arbitrary<T>) => fc.array(item, { minLength: 1, maxLength: 4 });
const validPolicy = fc.record({
  version: fc.constant('1.0.0'),
  anyOf: validList(
    fc.oneof(
      fc.record({ authority: fc.constantFrom('https://a.example', 'https://a.example/', 'http://127.0.0.1:8443'), allOf: validList(fc.oneof(validCondition, fc.record({ anyOf: validList(validCondition) }))) }),
      fc.record({ authority: fc.constantFrom('https://b.example'), anyOf: validList(fc.oneof(validCondition, fc.record({ allOf: validList(validCondition) }))) }),
    ),
  ),
});

describe('parseReleasePolicy never throws anything but PolicyError', () => {
  it('on random JSON values', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => parseOrPolicyError(v)), { numRuns: 2000 });
  });
  it('on random JSON text and random strings', () => {
    fc.assert(fc.property(fc.oneof(fc.json(), fc.string(), fc.string({ unit: 'binary' })), (s) => parseOrPolicyError(s)), { numRuns: 2000 });
  });
  it('on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), (b) => parseOrPolicyError(b)), { numRuns: 1000 });
  });
  it('on random values of any JS type', () => {
    fc.assert(fc.property(fc.anything(), (v) => parseOrPolicyError(v)), { numRuns: 1000 });
  });
  it('on documents shaped like the grammar', () => {
    fc.assert(fc.property(grammarLike, (v) => parseOrPolicyError(v)), { numRuns: 2000 });
  });
});

describe('valid policies', () => {
  it('round-trip through serializeReleasePolicy, and evaluate and explain without throwing', () => {
    const claims = fc.dictionary(claimName, fc.oneof(scalar, fc.constant(null), fc.dictionary(fc.constantFrom('m', 'snp'), scalar)));
    fc.assert(
      fc.property(validPolicy, claims, fc.option(fc.constantFrom('https://a.example', 'https://a.example/', 'https://b.example'), { nil: undefined }), (doc, c, issuer) => {
        const policy = parseReleasePolicy(doc);
        const again = parseReleasePolicy(serializeReleasePolicy(policy));
        expect(again.anyOf).toEqual(policy.anyOf);
        const d = evaluateReleasePolicy(policy, c, { issuer });
        expect(d.allowed).toBe(d.matchedAuthority !== null);
        if (d.allowed) expect(d.failures).toEqual([]);
        expect(d.failures.every((f) => !f.passed)).toBe(true);
        if (!d.allowed && d.results.some((r) => r.issuer !== 'mismatched')) expect(d.failures.length).toBeGreaterThan(0);
        expect(typeof explainDecision(d)).toBe('string');
      }),
      { numRuns: 1000 },
    );
  });
});

describe('ordered operators agree with integer order in every notation', () => {
  /** n as a decimal string, a 0x hex string (n >= 0) or a JSON number (when exact). */
  const notation = (n: bigint, pick: number): string | number => {
    const forms: Array<string | number> = [String(n)];
    if (n >= 0n) forms.push(`0x${n.toString(16)}`);
    if (Number.isSafeInteger(Number(n))) forms.push(Number(n));
    return forms[pick % forms.length]!;
  };
  const holds = { greater: (c: number) => c > 0, greaterOrEquals: (c: number) => c >= 0, less: (c: number) => c < 0, lessOrEquals: (c: number) => c <= 0 };
  it('greater, greaterOrEquals, less and lessOrEquals, beyond 2^53 too', () => {
    const big = fc.oneof(fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }), fc.bigInt({ min: -5n, max: 5n }));
    const op = fc.constantFrom('greater', 'greaterOrEquals', 'less', 'lessOrEquals' as const);
    fc.assert(
      fc.property(big, big, fc.nat(), fc.nat(), op, (a, b, i, j, operator) => {
        const policy = parseReleasePolicy({ version: '1.0.0', anyOf: [{ authority: 'https://a.example', allOf: [{ claim: 'c', [operator]: notation(b, j) }] }] });
        const d = evaluateReleasePolicy(policy, { c: notation(a, i) });
        expect(d.allowed).toBe(holds[operator](a < b ? -1 : a > b ? 1 : 0));
      }),
      { numRuns: 2000 },
    );
  });
});
