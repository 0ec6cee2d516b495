import { describe, expect, it } from 'vitest';
import {
  type ClauseResult,
  type PolicyDecision,
  type ScalarValue,
  evaluateReleasePolicy,
  explainDecision,
  lookupClaim,
  normaliseAuthority,
  parseReleasePolicy,
} from '../../../attestation/policy/index.js';
import { HAS_SHARED, sharedFile } from '../../helpers/shared.js';

const AUTH = 'https://krs.example.internal';

function decide(conditions: unknown[], claims: object, issuer: string | undefined = AUTH, combinator: 'allOf' | 'anyOf' = 'allOf'): PolicyDecision {
  const policy = parseReleasePolicy({ version: '1.0.0', anyOf: [{ authority: AUTH, [combinator]: conditions }] });
  return evaluateReleasePolicy(policy, claims, { issuer });
}

/** The single clause of a one-condition policy. */
function clause(operator: string, value: unknown, claims: object, claim = 'c'): ClauseResult {
  const c = decide([{ claim, [operator]: value }], claims).results[0]!.conditions[0]!;
  if (c.kind !== 'claim') throw new Error('expected a claim result');
  return c;
}

const passes = (operator: string, value: unknown, actual: unknown): boolean => clause(operator, value, { c: actual }).passed;

describe('operators', () => {
  it('equals / notEquals compare string forms, as Key Vault does', () => {
    expect(passes('equals', 'true', true)).toBe(true);
    expect(passes('equals', true, 'true')).toBe(true);
    expect(passes('equals', false, false)).toBe(true);
    expect(passes('equals', 'false', true)).toBe(false);
    expect(passes('equals', '0', 0)).toBe(true);
    expect(passes('equals', 0, '0')).toBe(true);
    expect(passes('equals', 1.5, '1.5')).toBe(true);
    expect(passes('equals', 'sevsnpvm', 'sevsnpvm')).toBe(true);
    expect(passes('equals', 'SevSnpVm', 'sevsnpvm')).toBe(false);
    expect(passes('equals', '00', 0)).toBe(false);
    expect(passes('equals', 'True', true)).toBe(false);
    expect(passes('notEquals', 'true', true)).toBe(false);
    expect(passes('notEquals', 1, 2)).toBe(true);
    expect(passes('notEquals', 'a', 'b')).toBe(true);
  });

  it('equality against an object, list or null claim fails as not comparable', () => {
    for (const actual of [{}, [1], null]) {
      for (const op of ['equals', 'notEquals']) {
        const c = clause(op, 'x', { c: actual });
        expect(c.passed).toBe(false);
        expect(c.reason).toMatch(/^not comparable/);
      }
      expect(clause('in', ['x'], { c: actual }).passed).toBe(false);
    }
  });

  it('ordered operators compare numerically: numbers, decimal and 0x hex strings', () => {
    expect(passes('greater', '9', '10')).toBe(true);
    expect(passes('greater', 9, '10')).toBe(true);
    expect(passes('less', '10', '9')).toBe(true);
    expect(passes('greaterOrEquals', 2, 2)).toBe(true);
    expect(passes('greaterOrEquals', 3, 2)).toBe(false);
    expect(passes('greater', 2, 2)).toBe(false);
    expect(passes('lessOrEquals', '2', 2)).toBe(true);
    expect(passes('less', 2, 2)).toBe(false);
    expect(passes('less', '0x40000', '0x30000')).toBe(true);
    expect(passes('greaterOrEquals', '0x10', 16)).toBe(true);
    expect(passes('greater', 1.5, '1.75')).toBe(true);
    expect(passes('greater', '-1', 0)).toBe(true);
    expect(passes('greater', '18446744073709551615', '18446744073709551616')).toBe(true);
    expect(passes('greaterOrEquals', '9007199254740993', 9007199254740992)).toBe(false);
  });

  it('ordered operators never fall back to string order: a non-numeric claim fails as not comparable', () => {
    for (const actual of ['abc', true, '', ' 1', '1e400', {}, [2], null]) {
      const c = clause('greater', 1, { c: actual });
      expect(c.passed, JSON.stringify(actual)).toBe(false);
      expect(c.reason).toMatch(/^not comparable/);
    }
    expect(clause('lessOrEquals', 1, { c: 'abc' }).passed).toBe(false);
  });

  it('exists: true passes iff present, false iff absent', () => {
    expect(passes('exists', true, 0)).toBe(true);
    expect(passes('exists', true, false)).toBe(true);
    expect(passes('exists', true, null)).toBe(true);
    expect(clause('exists', true, {}).passed).toBe(false);
    expect(clause('exists', false, {}).passed).toBe(true);
    expect(passes('exists', false, 'x')).toBe(false);
    expect(clause('exists', false, { c: undefined }).passed).toBe(true);
  });

  it('in compares string forms against each listed value', () => {
    expect(passes('in', ['a', 'b'], 'b')).toBe(true);
    expect(passes('in', ['a', 'b'], 'c')).toBe(false);
    expect(passes('in', [0, 1], '1')).toBe(true);
    expect(passes('in', ['true'], true)).toBe(true);
  });

  it('a missing claim fails every operator except exists:false (notEquals included: fail closed)', () => {
    const values: Record<string, unknown> = { equals: 'x', notEquals: 'x', greater: 1, greaterOrEquals: 1, less: 1, lessOrEquals: 1, exists: true, in: ['x'] };
    for (const [op, v] of Object.entries(values)) {
      const c = clause(op, v, { other: 'x' });
      expect(c.passed, op).toBe(false);
      expect(c.present).toBe(false);
      expect('actual' in c).toBe(false);
      expect(c.reason).toBe('claim is absent');
    }
  });
});

describe('claim lookup', () => {
  const claims = {
    'x-ms-sevsnpvm-vmpl': 0,
    'x-ms-isolation-tee': { 'x-ms-attestation-type': 'sevsnpvm', 'x-ms-runtime': { keys: [{ kid: 'k' }] } },
    'x-zt4ai-reported-tcb': { bootloader: 1, tee: 0, snp: 2, microcode: 71, fmc: 0 },
    'a.b': 'flat',
    a: { b: 'nested' },
  };
  it('reads flat names first, then dotted paths through nested objects', () => {
    expect(lookupClaim(claims, 'x-ms-sevsnpvm-vmpl')).toEqual({ present: true, value: 0 });
    expect(lookupClaim(claims, 'x-ms-isolation-tee.x-ms-attestation-type')).toEqual({ present: true, value: 'sevsnpvm' });
    expect(lookupClaim(claims, 'x-zt4ai-reported-tcb.snp')).toEqual({ present: true, value: 2 });
    expect(lookupClaim(claims, 'a.b')).toEqual({ present: true, value: 'flat' });
    expect(lookupClaim({ a: { b: 'nested' } }, 'a.b')).toEqual({ present: true, value: 'nested' });
  });
  it('stops at lists and never reads the prototype', () => {
    expect(lookupClaim(claims, 'x-ms-isolation-tee.x-ms-runtime.keys')).toMatchObject({ present: true });
    expect(lookupClaim(claims, 'x-ms-isolation-tee.x-ms-runtime.keys.0.kid')).toEqual({ present: false });
    expect(lookupClaim(claims, 'constructor')).toEqual({ present: false });
    expect(lookupClaim(claims, 'a.toString')).toEqual({ present: false });
    expect(lookupClaim(claims, '__proto__')).toEqual({ present: false });
    expect(lookupClaim(claims, 'x-ms-sevsnpvm-vmpl.x')).toEqual({ present: false });
  });
  it('dotted paths work in conditions, including ordered comparisons into the TCB object', () => {
    expect(decide([{ claim: 'x-zt4ai-reported-tcb.snp', greaterOrEquals: 2 }, { claim: 'x-ms-isolation-tee.x-ms-attestation-type', equals: 'sevsnpvm' }], claims).allowed).toBe(true);
    expect(decide([{ claim: 'x-zt4ai-reported-tcb.snp', greaterOrEquals: 3 }], claims).allowed).toBe(false);
  });
});

describe('authorities and combinators', () => {
  const rule = (authority: string, claim: string) => ({ authority, allOf: [{ claim, equals: 'yes' }] });
  const policy = parseReleasePolicy({ version: '1.0.0', anyOf: [rule('https://a.example/', 'a'), rule('https://b.example', 'b')] });

  it('an authority applies only when it equals the token issuer, one trailing "/" ignored on either side', () => {
    expect(evaluateReleasePolicy(policy, { a: 'yes' }, { issuer: 'https://a.example' })).toMatchObject({ allowed: true, matchedAuthority: 'https://a.example/' });
    expect(evaluateReleasePolicy(policy, { b: 'yes' }, { issuer: 'https://b.example/' })).toMatchObject({ allowed: true, matchedAuthority: 'https://b.example' });
    const d = evaluateReleasePolicy(policy, { a: 'yes' }, { issuer: 'https://b.example' });
    expect(d.allowed).toBe(false);
    expect(d.results.map((r) => r.issuer)).toEqual(['mismatched', 'matched']);
    expect(d.results[0]!.conditions).toEqual([]);
    expect(d.failures.map((f) => f.claim)).toEqual(['b']);
    expect(evaluateReleasePolicy(policy, { a: 'yes', b: 'yes' }, { issuer: 'https://c.example' }).allowed).toBe(false);
    expect(evaluateReleasePolicy(policy, { a: 'yes' }, { issuer: 'https://A.example' }).allowed).toBe(false);
    expect(normaliseAuthority('https://x/')).toBe('https://x');
  });

  it('without an issuer every authority is evaluated and the decision records that none was checked', () => {
    const d = evaluateReleasePolicy(policy, { b: 'yes' });
    expect(d).toMatchObject({ allowed: true, matchedAuthority: 'https://b.example', issuer: null, issuerChecked: false });
    expect(d.results.map((r) => r.issuer)).toEqual(['not-checked', 'not-checked']);
    expect(explainDecision(d)).toContain('authorities were not matched');
  });

  it('allOf needs every condition, anyOf one; a failing authority lists every failing clause', () => {
    const conditions = [{ claim: 'x', equals: 1 }, { claim: 'y', equals: 2 }, { claim: 'z', equals: 3 }];
    expect(decide(conditions, { x: 1, y: 2, z: 3 }).allowed).toBe(true);
    const d = decide(conditions, { x: 1, y: 0 });
    expect(d.allowed).toBe(false);
    expect(d.failures.map((f) => [f.path, f.claim, f.present])).toEqual([
      ['/anyOf/0/allOf/1', 'y', true],
      ['/anyOf/0/allOf/2', 'z', false],
    ]);
    expect(decide(conditions, { z: 3 }, AUTH, 'anyOf').allowed).toBe(true);
    expect(decide(conditions, {}, AUTH, 'anyOf').failures).toHaveLength(3);
  });

  it('a nested group that holds contributes no failures; one that fails contributes its failing clauses', () => {
    const conditions = [{ anyOf: [{ claim: 't', equals: 'sevsnpvm' }, { claim: 't', equals: 'tdxvm' }] }, { claim: 'c', equals: 'ok' }];
    const pass = decide(conditions, { t: 'tdxvm', c: 'ok' });
    expect(pass.allowed).toBe(true);
    expect(pass.failures).toEqual([]);
    const groupOk = decide(conditions, { t: 'sevsnpvm', c: 'bad' });
    expect(groupOk.failures.map((f) => f.path)).toEqual(['/anyOf/0/allOf/1']);
    const groupBad = decide(conditions, { t: 'sgx', c: 'bad' });
    expect(groupBad.failures.map((f) => f.path)).toEqual(['/anyOf/0/allOf/0/anyOf/0', '/anyOf/0/allOf/0/anyOf/1', '/anyOf/0/allOf/1']);
    const allOfGroup = decide([{ allOf: [{ claim: 'p', equals: 1 }, { claim: 'q', equals: 1 }] }], { p: 1, q: 2 });
    expect(allOfGroup.failures.map((f) => f.claim)).toEqual(['q']);
  });

  it('every clause result says path, claim, operator, expected, actual, passed and reason', () => {
    const d = decide([{ claim: 'svn', greaterOrEquals: 3 }], { svn: 2 });
    expect(d.failures[0]).toEqual({ kind: 'claim', path: '/anyOf/0/allOf/0', claim: 'svn', operator: 'greaterOrEquals', expected: 3, present: true, actual: 2, passed: false, reason: '2 is not >= 3' });
  });
});

describe('explainDecision', () => {
  it('writes a verdict line and one ✓/✗ line per clause with expected and actual', () => {
    const claims = { vmpl: 0, svn: 2, t: 'sevsnpvm', big: 'x'.repeat(500) };
    const d = decide(
      [
        { claim: 'vmpl', equals: 0 },
        { claim: 'svn', greaterOrEquals: 3 },
        { claim: 'fresh', equals: true },
        { claim: 'big', equals: 'y' },
        { anyOf: [{ claim: 't', equals: 'sevsnpvm' }, { claim: 't', equals: 'tdxvm' }] },
      ],
      claims,
    );
    const text = explainDecision(d);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe(`DENIED: no applicable authority has its conditions met (token issuer ${AUTH}); 3 failing clauses`);
    expect(lines[1]).toBe(`✗ authority ${AUTH} [/anyOf/0] (issuer matches), allOf (every condition must hold):`);
    expect(lines[2]).toBe('    ✓ vmpl equals 0: actual 0 [/anyOf/0/allOf/0]');
    expect(lines[3]).toBe('    ✗ svn greaterOrEquals 3: actual 2 (2 is not >= 3) [/anyOf/0/allOf/1]');
    expect(lines[4]).toBe('    ✗ fresh equals true: claim absent [/anyOf/0/allOf/2]');
    expect(lines[5]).toMatch(/^ {4}✗ big equals "y": actual "x{99}\.\.\. \(values differ\) \[\/anyOf\/0\/allOf\/3\]$/);
    expect(lines[6]).toBe('    ✓ anyOf (one condition must hold) [/anyOf/0/allOf/4]:');
    expect(lines[7]).toBe('        ✓ t equals "sevsnpvm": actual "sevsnpvm" [/anyOf/0/allOf/4/anyOf/0]');
    expect(lines[8]).toBe('        ✗ t equals "tdxvm": actual "sevsnpvm" (values differ) [/anyOf/0/allOf/4/anyOf/1]');
    expect(text.endsWith('\n')).toBe(true);
  });

  it('says when the policy is met and when no authority matches the issuer', () => {
    const allowed = decide([{ claim: 'a', in: ['x', 'y'] }], { a: 'y' });
    expect(explainDecision(allowed)).toMatch(new RegExp(`^ALLOWED by authority ${AUTH} \\(token issuer ${AUTH}\\)\\n`));
    const wrongIssuer = decide([{ claim: 'a', equals: 'x' }], { a: 'x' }, 'https://other.example');
    expect(explainDecision(wrongIssuer)).toContain('DENIED: no authority in the policy matches the token issuer https://other.example');
    expect(explainDecision(wrongIssuer)).toContain(`- authority ${AUTH} [/anyOf/0]: skipped, it is not the token issuer https://other.example`);
  });
});

describe.skipIf(!HAS_SHARED)("Microsoft's CVM data-disk policy over a real Azure CVM token's claims", () => {
  const policy = () => parseReleasePolicy(sharedFile('vectors/azure/akv-skr/release_policy_cvm_datadisk.json'));
  const claims = () => JSON.parse(sharedFile('vectors/azure/azureguest/sample_token_claims.json').toString('utf8')) as Record<string, unknown>;

  it('allows the token as if issued by East US (authority written with a trailing "/")', () => {
    const d = evaluateReleasePolicy(policy(), claims(), { issuer: 'https://sharedeus.eus.attest.azure.net' });
    expect(d).toMatchObject({ allowed: true, matchedAuthority: 'https://sharedeus.eus.attest.azure.net/', failures: [] });
    expect(d.results.filter((r) => r.issuer === 'matched')).toHaveLength(1);
    const text = explainDecision(d);
    expect(text).toContain('✓ x-ms-isolation-tee.x-ms-compliance-status equals "azure-compliant-cvm": actual "azure-compliant-cvm"');
    expect(text).toMatch(/- 25 authorities skipped, none is the token issuer/);
  });

  it("denies it under its real issuer, a test instance the policy does not name", () => {
    const c = claims();
    const d = evaluateReleasePolicy(policy(), c, { issuer: c.iss as string });
    expect(d.allowed).toBe(false);
    expect(d.results.every((r) => r.issuer === 'mismatched')).toBe(true);
  });

  it('denies a TDX-typed or non-compliant claim set with the failing clauses listed', () => {
    const c = claims();
    const tee = c['x-ms-isolation-tee'] as Record<string, unknown>;
    const altered = { ...c, 'x-ms-isolation-tee': { ...tee, 'x-ms-attestation-type': 'sgx', 'x-ms-compliance-status': 'nope' } };
    const d = evaluateReleasePolicy(policy(), altered, { issuer: 'https://sharedweu.weu.attest.azure.net' });
    expect(d.allowed).toBe(false);
    expect(d.failures.map((f) => f.path)).toEqual(['/anyOf/10/allOf/0/anyOf/0', '/anyOf/10/allOf/0/anyOf/1', '/anyOf/10/allOf/1']);
  });
});

describe('evaluation is pure and total over odd claim values', () => {
  it('never throws on hostile claim sets', () => {
    const policy = parseReleasePolicy({ version: '1.0.0', anyOf: [{ authority: AUTH, allOf: OPS.map((op) => ({ claim: 'c', ...op })) }] });
    const odd: unknown[] = [Symbol('s'), () => 1, 10n, Number.NaN, Number.POSITIVE_INFINITY, new Date(0), Object.create(null)];
    for (const v of odd) expect(() => explainDecision(evaluateReleasePolicy(policy, { c: v }, { issuer: AUTH }))).not.toThrow();
  });
});

const OPS: Array<Record<string, ScalarValue | boolean | ScalarValue[]>> = [
  { equals: 'x' },
  { notEquals: 'x' },
  { greater: 1 },
  { greaterOrEquals: 1 },
  { less: 1 },
  { lessOrEquals: 1 },
  { exists: true },
  { in: ['x'] },
];
