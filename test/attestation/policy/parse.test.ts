import { readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  OPERATORS,
  POLICY_ERROR_CODES,
  POLICY_LIMITS,
  type PolicyError,
  PolicyErrors,
  azureCompatibilityNotes,
  checkReleasePolicy,
  parseReleasePolicy,
  policyMistakes,
  serializeReleasePolicy,
} from '../../../attestation/policy/index.js';
import { HAS_SHARED, REPO_ROOT, sharedFile } from '../../helpers/shared.js';

const AUTH = 'https://krs.example.internal';
const doc = (allOf: unknown[], extra: Record<string, unknown> = {}) => ({ version: '1.0.0', anyOf: [{ authority: AUTH, allOf, ...extra }] });

/** The [code, path] pairs of every mistake parsing reports. */
function mistakes(input: unknown): Array<[string, string]> {
  const r = checkReleasePolicy(input);
  if (r.ok) throw new Error('expected the policy to be refused');
  return r.errors.map((e) => [e.code, e.path]);
}

describe('parseReleasePolicy: valid policies', () => {
  it('reads every operator with the value type it takes', () => {
    const p = parseReleasePolicy(
      doc([
        { claim: 'a', equals: 'x' },
        { claim: 'b', notEquals: 1 },
        { claim: 'c', greater: '10' },
        { claim: 'd', greaterOrEquals: 2 },
        { claim: 'e', less: '0x10' },
        { claim: 'f', lessOrEquals: 1.5 },
        { claim: 'g', exists: false },
        { claim: 'h', in: ['x', 1, true] },
      ]),
    );
    const rule = p.anyOf[0]!;
    expect(rule.combinator).toBe('allOf');
    expect(rule.conditions.map((c) => (c.kind === 'claim' ? c.operator : 'group'))).toEqual([...OPERATORS]);
    expect(rule.conditions[7]).toEqual({ kind: 'claim', claim: 'h', operator: 'in', value: ['x', 1, true] });
  });

  it('reads one level of nesting, and anyOf as the authority combinator', () => {
    const p = parseReleasePolicy({ version: '1.0.0', anyOf: [{ authority: AUTH, anyOf: [{ allOf: [{ claim: 'a', equals: 1 }, { claim: 'b', equals: 2 }] }, { claim: 'c', exists: true }] }] });
    const rule = p.anyOf[0]!;
    expect(rule.combinator).toBe('anyOf');
    expect(rule.conditions[0]).toMatchObject({ kind: 'group', combinator: 'allOf', conditions: [{ claim: 'a' }, { claim: 'b' }] });
  });

  it('normalises the older {claim, condition, value} form of version "1.0"', () => {
    const p = parseReleasePolicy({ version: '1.0', anyOf: [{ authority: 'https://x.example/', allOf: [{ claim: 'sdk-test', condition: 'equals', value: 'true' }] }] });
    expect(p.sourceVersion).toBe('1.0');
    expect(p.version).toBe('1.0.0');
    expect(p.anyOf[0]!.conditions[0]).toEqual({ kind: 'claim', claim: 'sdk-test', operator: 'equals', value: 'true' });
    expect(serializeReleasePolicy(p)).toBe('{"version":"1.0.0","anyOf":[{"authority":"https://x.example/","allOf":[{"claim":"sdk-test","equals":"true"}]}]}');
  });

  it('accepts JSON text, UTF-8 bytes (with or without a BOM) and parsed values alike', () => {
    const text = JSON.stringify(doc([{ claim: 'a', equals: 'é' }]));
    const expected = parseReleasePolicy(text);
    expect(parseReleasePolicy(Buffer.from(text))).toEqual(expected);
    expect(parseReleasePolicy(`\uFEFF${text}`)).toEqual(expected);
    expect(parseReleasePolicy(JSON.parse(text))).toEqual(expected);
  });

  it('serialises canonically and round-trips', () => {
    const text = '{"anyOf":[{"allOf":[{"equals":"x","claim":"a"},{"anyOf":[{"claim":"b","in":[1,"2"]}]}],"authority":"https://a.example"}],"version":"1.0.0"}';
    const p = parseReleasePolicy(text);
    const canonical = serializeReleasePolicy(p);
    expect(canonical).toBe('{"version":"1.0.0","anyOf":[{"authority":"https://a.example","allOf":[{"claim":"a","equals":"x"},{"anyOf":[{"claim":"b","in":[1,"2"]}]}]}]}');
    expect(parseReleasePolicy(canonical)).toEqual(p);
    expect(serializeReleasePolicy(p, { indent: 2 })).toContain('\n  "anyOf"');
  });

  it('notes what Azure Key Vault would not accept or enforce', () => {
    const p = parseReleasePolicy(doc([{ claim: 'a', equals: 'x' }, { claim: 'b', in: ['1'] }, { claim: 'x-zt4ai-fresh', greaterOrEquals: 1 }]));
    const notes = azureCompatibilityNotes(p).map((n) => `${n.path} ${n.message}`);
    expect(notes).toHaveLength(3);
    expect(notes[0]).toMatch(/^\/anyOf\/0\/allOf\/1 in is a zt4ai extension/);
    expect(notes.join('\n')).toContain('/anyOf/0/allOf/2 Key Vault documents greaterOrEquals as reserved');
    expect(notes.join('\n')).toContain('x-zt4ai-fresh comes from zt4ai');
  });
});

describe('parseReleasePolicy: every mistake has a stable code and a JSON pointer', () => {
  const cases: Array<[string, unknown, Array<[keyof typeof POLICY_ERROR_CODES, string]>]> = [
    ['not JSON', '{"version":', [['ERR_POLICY_JSON', '']]],
    ['not UTF-8', Buffer.from([0x7b, 0xff, 0x7d]), [['ERR_POLICY_JSON', '']]],
    ['not an object', '[1]', [['ERR_POLICY_SCHEMA', '']]],
    ['missing version', { anyOf: [{ authority: AUTH, allOf: [{ claim: 'a', equals: 1 }] }] }, [['ERR_POLICY_VERSION', '']]],
    ['wrong version', { ...doc([{ claim: 'a', equals: 1 }]), version: '2.0' }, [['ERR_POLICY_VERSION', '/version']]],
    ['numeric version', { ...doc([{ claim: 'a', equals: 1 }]), version: 1 }, [['ERR_POLICY_VERSION', '/version']]],
    ['unknown top-level key', { ...doc([{ claim: 'a', equals: 1 }]), allOf: [] }, [['ERR_POLICY_SCHEMA', '/allOf']]],
    ['missing anyOf', { version: '1.0.0' }, [['ERR_POLICY_SCHEMA', '']]],
    ['anyOf not a list', { version: '1.0.0', anyOf: {} }, [['ERR_POLICY_SCHEMA', '/anyOf']]],
    ['no authorities', { version: '1.0.0', anyOf: [] }, [['ERR_POLICY_EMPTY', '/anyOf']]],
    ['authority entry not an object', { version: '1.0.0', anyOf: ['https://a'] }, [['ERR_POLICY_SCHEMA', '/anyOf/0']]],
    ['missing authority', { version: '1.0.0', anyOf: [{ allOf: [{ claim: 'a', equals: 1 }] }] }, [['ERR_POLICY_AUTHORITY', '/anyOf/0']]],
    ['relative authority', { version: '1.0.0', anyOf: [{ authority: 'attest.azure.net', allOf: [{ claim: 'a', equals: 1 }] }] }, [['ERR_POLICY_AUTHORITY', '/anyOf/0/authority']]],
    ['authority with a query', { version: '1.0.0', anyOf: [{ authority: 'https://a/?x=1', allOf: [{ claim: 'a', equals: 1 }] }] }, [['ERR_POLICY_AUTHORITY', '/anyOf/0/authority']]],
    ['authority with credentials', { version: '1.0.0', anyOf: [{ authority: 'https://u:p@a', allOf: [{ claim: 'a', equals: 1 }] }] }, [['ERR_POLICY_AUTHORITY', '/anyOf/0/authority']]],
    ['authority not http(s)', { version: '1.0.0', anyOf: [{ authority: 'ftp://a', allOf: [{ claim: 'a', equals: 1 }] }] }, [['ERR_POLICY_AUTHORITY', '/anyOf/0/authority']]],
    ['both allOf and anyOf', doc([{ claim: 'a', equals: 1 }], { anyOf: [{ claim: 'b', equals: 1 }] }), [['ERR_POLICY_COMBINATOR', '/anyOf/0']]],
    ['no condition list', { version: '1.0.0', anyOf: [{ authority: AUTH }] }, [['ERR_POLICY_COMBINATOR', '/anyOf/0']]],
    ['empty allOf', doc([]), [['ERR_POLICY_EMPTY', '/anyOf/0/allOf']]],
    ['condition list not a list', { version: '1.0.0', anyOf: [{ authority: AUTH, allOf: { claim: 'a', equals: 1 } }] }, [['ERR_POLICY_SCHEMA', '/anyOf/0/allOf']]],
    ['unknown key in an authority', doc([{ claim: 'a', equals: 1 }], { claim: 'x' }), [['ERR_POLICY_SCHEMA', '/anyOf/0/claim']]],
    ['condition not an object', doc(['a']), [['ERR_POLICY_SCHEMA', '/anyOf/0/allOf/0']]],
    ['operator without claim', doc([{ equals: 1 }]), [['ERR_POLICY_CLAIM', '/anyOf/0/allOf/0']]],
    ['neither claim nor group', doc([{ foo: 1 }]), [['ERR_POLICY_SCHEMA', '/anyOf/0/allOf/0']]],
    ['empty claim', doc([{ claim: '', equals: 1 }]), [['ERR_POLICY_CLAIM', '/anyOf/0/allOf/0/claim']]],
    ['claim not a string', doc([{ claim: 7, equals: 1 }]), [['ERR_POLICY_CLAIM', '/anyOf/0/allOf/0/claim']]],
    ['claim with an empty segment', doc([{ claim: 'a..b', equals: 1 }]), [['ERR_POLICY_CLAIM', '/anyOf/0/allOf/0/claim']]],
    ['claim with whitespace', doc([{ claim: ' a', equals: 1 }]), [['ERR_POLICY_CLAIM', '/anyOf/0/allOf/0/claim']]],
    ['typo "equal"', doc([{ claim: 'a', equal: 1 }]), [['ERR_POLICY_OPERATOR_UNKNOWN', '/anyOf/0/allOf/0/equal']]],
    ['no operator', doc([{ claim: 'a' }]), [['ERR_POLICY_OPERATOR_COUNT', '/anyOf/0/allOf/0']]],
    ['two operators', doc([{ claim: 'a', equals: 1, notEquals: 2 }]), [['ERR_POLICY_OPERATOR_COUNT', '/anyOf/0/allOf/0']]],
    ['null value', doc([{ claim: 'a', equals: null }]), [['ERR_POLICY_VALUE_TYPE', '/anyOf/0/allOf/0/equals']]],
    ['object value', doc([{ claim: 'a', notEquals: {} }]), [['ERR_POLICY_VALUE_TYPE', '/anyOf/0/allOf/0/notEquals']]],
    ['exists with a string', doc([{ claim: 'a', exists: 'true' }]), [['ERR_POLICY_VALUE_TYPE', '/anyOf/0/allOf/0/exists']]],
    ['in with a scalar', doc([{ claim: 'a', in: 'x' }]), [['ERR_POLICY_VALUE_TYPE', '/anyOf/0/allOf/0/in']]],
    ['in with an empty list', doc([{ claim: 'a', in: [] }]), [['ERR_POLICY_VALUE_TYPE', '/anyOf/0/allOf/0/in']]],
    ['in with an object entry', doc([{ claim: 'a', in: ['x', { y: 1 }] }]), [['ERR_POLICY_VALUE_TYPE', '/anyOf/0/allOf/0/in/1']]],
    ['ordered operator with a word', doc([{ claim: 'a', greater: 'abc' }]), [['ERR_POLICY_VALUE_TYPE', '/anyOf/0/allOf/0/greater']]],
    ['ordered operator with a boolean', doc([{ claim: 'a', lessOrEquals: true }]), [['ERR_POLICY_VALUE_TYPE', '/anyOf/0/allOf/0/lessOrEquals']]],
    ['number too large for a double', '{"version":"1.0.0","anyOf":[{"authority":"https://a","allOf":[{"claim":"a","less":1e400}]}]}', [['ERR_POLICY_VALUE_TYPE', '/anyOf/0/allOf/0/less']]],
    ['group inside a group', doc([{ anyOf: [{ allOf: [{ claim: 'a', equals: 1 }] }] }]), [['ERR_POLICY_NESTING', '/anyOf/0/allOf/0/anyOf/0']]],
    ['empty group', doc([{ anyOf: [] }]), [['ERR_POLICY_EMPTY', '/anyOf/0/allOf/0/anyOf']]],
    ['group with both lists', doc([{ anyOf: [{ claim: 'a', equals: 1 }], allOf: [{ claim: 'b', equals: 1 }] }]), [['ERR_POLICY_COMBINATOR', '/anyOf/0/allOf/0']]],
    ['group with an extra key', doc([{ anyOf: [{ claim: 'a', equals: 1 }], note: 'x' }]), [['ERR_POLICY_SCHEMA', '/anyOf/0/allOf/0/note']]],
    ['duplicate key', '{"version":"1.0.0","anyOf":[{"authority":"https://a","allOf":[{"claim":"a","equals":"x","equals":"y"}]}]}', [['ERR_POLICY_DUPLICATE_KEY', '/anyOf/0/allOf/0/equals']]],
    ['legacy form under version 1.0.0', doc([{ claim: 'a', condition: 'equals', value: 1 }]), [['ERR_POLICY_SCHEMA', '/anyOf/0/allOf/0/condition'], ['ERR_POLICY_SCHEMA', '/anyOf/0/allOf/0/value']]],
    ['new form under version 1.0', { version: '1.0', anyOf: [{ authority: AUTH, allOf: [{ claim: 'a', equals: 1 }] }] }, [['ERR_POLICY_SCHEMA', '/anyOf/0/allOf/0/equals'], ['ERR_POLICY_SCHEMA', '/anyOf/0/allOf/0']]],
    ['legacy unknown condition', { version: '1.0', anyOf: [{ authority: AUTH, allOf: [{ claim: 'a', condition: 'equal', value: 1 }] }] }, [['ERR_POLICY_OPERATOR_UNKNOWN', '/anyOf/0/allOf/0/condition']]],
    ['legacy missing value', { version: '1.0', anyOf: [{ authority: AUTH, allOf: [{ claim: 'a', condition: 'equals' }] }] }, [['ERR_POLICY_SCHEMA', '/anyOf/0/allOf/0']]],
    ['too many bytes', 'x'.repeat(POLICY_LIMITS.maxBytes + 1), [['ERR_POLICY_TOO_LARGE', '']]],
    ['too many authorities', { version: '1.0.0', anyOf: Array.from({ length: POLICY_LIMITS.maxAuthorities + 1 }, () => ({ authority: AUTH, allOf: [{ claim: 'a', exists: true }] })) }, [['ERR_POLICY_TOO_LARGE', '/anyOf']]],
    ['too many in values', doc([{ claim: 'a', in: Array.from({ length: POLICY_LIMITS.maxInValues + 1 }, (_, i) => i) }]), [['ERR_POLICY_TOO_LARGE', '/anyOf/0/allOf/0/in']]],
    ['value too long', doc([{ claim: 'a', equals: 'x'.repeat(POLICY_LIMITS.maxStringLength + 1) }]), [['ERR_POLICY_TOO_LARGE', '/anyOf/0/allOf/0/equals']]],
    ['claim too long', doc([{ claim: 'x'.repeat(POLICY_LIMITS.maxClaimLength + 1), exists: true }]), [['ERR_POLICY_TOO_LARGE', '/anyOf/0/allOf/0/claim']]],
    ['a cyclic value', (() => { const o: Record<string, unknown> = { version: '1.0.0' }; o.anyOf = [o]; return o; })(), [['ERR_POLICY_JSON', '']]],
    ['a BigInt value', doc([{ claim: 'a', equals: 1n }]), [['ERR_POLICY_JSON', '']]],
    ['undefined', undefined, [['ERR_POLICY_JSON', '']]],
  ];
  for (const [label, input, expected] of cases) {
    it(`${label}: ${expected.map(([c, p]) => `${c} at "${p}"`).join(', ')}`, () => {
      expect(mistakes(input)).toEqual(expected);
    });
  }

  it('every code in the catalogue is exercised above', () => {
    const used = new Set(cases.flatMap(([, , e]) => e.map(([c]) => c)));
    expect([...used].sort()).toEqual(Object.keys(POLICY_ERROR_CODES).sort());
  });

  it('collects all mistakes, not only the first, and throws them as one PolicyErrors', () => {
    const bad = { version: '1.0.0', anyOf: [{ authority: 'nope', allOf: [{ claim: 'a', equal: 1 }, { claim: 'b', exists: 1 }] }, { authority: AUTH, anyOf: [] }] };
    let thrown: unknown;
    try {
      parseReleasePolicy(bad);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(PolicyErrors);
    const all = policyMistakes(thrown as PolicyError);
    expect(all.map((e) => [e.code, e.path])).toEqual([
      ['ERR_POLICY_AUTHORITY', '/anyOf/0/authority'],
      ['ERR_POLICY_OPERATOR_UNKNOWN', '/anyOf/0/allOf/0/equal'],
      ['ERR_POLICY_VALUE_TYPE', '/anyOf/0/allOf/1/exists'],
      ['ERR_POLICY_EMPTY', '/anyOf/1/anyOf'],
    ]);
    expect((thrown as PolicyErrors).code).toBe('ERR_POLICY_AUTHORITY');
    expect((thrown as Error).message).toContain('the release policy has 4 mistakes');
    expect((thrown as Error).message).toContain('/anyOf/0/allOf/0/equal: unknown operator "equal" (did you mean "equals"?)');
  });

  it('an unknown operator names the valid ones', () => {
    const r = checkReleasePolicy(doc([{ claim: 'a', matches: 'x' }]));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]!.message).toContain('valid operators: equals, notEquals, greater, greaterOrEquals, less, lessOrEquals, exists, in');
  });

  it('too many conditions in total is refused once', () => {
    const per = 100;
    const n = Math.ceil((POLICY_LIMITS.maxConditions + 1) / per);
    const anyOf = Array.from({ length: n }, () => ({ authority: AUTH, allOf: Array.from({ length: per }, () => ({ claim: 'a', exists: true })) }));
    const codes = mistakes({ version: '1.0.0', anyOf }).map(([c]) => c);
    expect(codes).toEqual(['ERR_POLICY_TOO_LARGE']);
  });

  it('JSON pointers escape "/" and "~" in keys', () => {
    expect(mistakes(doc([{ claim: 'a', 'eq/ua~ls': 1 }]))).toEqual([['ERR_POLICY_OPERATOR_UNKNOWN', '/anyOf/0/allOf/0/eq~1ua~0ls']]);
  });

  it('reports at most maxReportedErrors mistakes', () => {
    const allOf = Array.from({ length: 300 }, () => ({ claim: '', equals: null }));
    expect(mistakes(doc(allOf)).length).toBe(POLICY_LIMITS.maxReportedErrors);
  });
});

describe('shipped policies', () => {
  const dir = resolve(REPO_ROOT, 'deploy/policies');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  it('ships the three documented policies', () => {
    expect(files.sort()).toEqual(['azure-cvm.json', 'simulator-dev.json', 'strict-production.json']);
  });
  for (const f of files) {
    it(`${f} parses and is already canonical apart from layout`, () => {
      const text = readFileSync(resolve(dir, f), 'utf8');
      const p = parseReleasePolicy(text);
      expect(JSON.parse(serializeReleasePolicy(p))).toEqual(JSON.parse(text));
    });
  }
});

describe.skipIf(!HAS_SHARED)("Microsoft's real Key Vault release policy (CVM data disk)", () => {
  it('parses: 26 regional authorities, each an allOf with a nested anyOf', () => {
    const p = parseReleasePolicy(sharedFile('vectors/azure/akv-skr/release_policy_cvm_datadisk.json'));
    expect(p.anyOf).toHaveLength(26);
    for (const rule of p.anyOf) {
      expect(rule.combinator).toBe('allOf');
      expect(rule.conditions[0]).toMatchObject({ kind: 'group', combinator: 'anyOf' });
    }
    expect(azureCompatibilityNotes(p)).toEqual([]);
  });
});
