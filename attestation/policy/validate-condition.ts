import { isScalar, toNumeric } from './compare.js';
import { pointer } from './pointer.js';
import { didYouMean } from './suggest.js';
import { type ClaimCondition, type ConditionTest, OPERATORS, type Operator, ORDERED_OPERATORS, POLICY_LIMITS, type ScalarValue } from './types.js';
import { type PolicyWalk, clip, describeValue } from './walk.js';

const VALID_OPERATORS = `valid operators: ${OPERATORS.join(', ')}`;

/** Reads `{claim, <operator>: value}` (or, in version "1.0" documents, `{claim, condition, value}`). */
export function readClaimCondition(w: PolicyWalk, v: Record<string, unknown>, path: string): ClaimCondition | null {
  const claim = readClaimName(w, v.claim, pointer(path, 'claim'));
  w.conditions++;
  if (w.conditions === POLICY_LIMITS.maxConditions + 1) {
    w.fail('ERR_POLICY_TOO_LARGE', path, `the policy has more than ${POLICY_LIMITS.maxConditions} claim conditions`);
  }
  const legacy = w.form === 'legacy' || (w.form === 'either' && Object.hasOwn(v, 'condition'));
  const test = legacy ? readLegacyTest(w, v, path) : readOperatorTest(w, v, path);
  return claim !== null && test !== null ? { kind: 'claim', claim, ...test } : null;
}

function readClaimName(w: PolicyWalk, v: unknown, path: string): string | null {
  if (typeof v !== 'string' || v.length === 0) return w.fail('ERR_POLICY_CLAIM', path, `claim must be a non-empty string, not ${describeValue(v)}`);
  if (v.length > POLICY_LIMITS.maxClaimLength) return w.fail('ERR_POLICY_TOO_LARGE', path, `claim names are at most ${POLICY_LIMITS.maxClaimLength} characters`);
  if (v.trim() !== v) return w.fail('ERR_POLICY_CLAIM', path, `claim "${clip(v)}" has leading or trailing whitespace, so it would never match`);
  if (v.split('.').includes('')) return w.fail('ERR_POLICY_CLAIM', path, `claim "${clip(v)}" has an empty segment in its dotted path`);
  return v;
}

function readOperatorTest(w: PolicyWalk, v: Record<string, unknown>, path: string): ConditionTest | null {
  const keys = Object.keys(v).filter((k) => k !== 'claim');
  const known = keys.filter(isOperator);
  for (const key of keys.filter((k) => !isOperator(k))) {
    if (w.form === 'current' && (key === 'condition' || key === 'value')) {
      w.fail('ERR_POLICY_SCHEMA', pointer(path, key), `"${key}" belongs to the version "1.0" form {claim, condition, value}; in version "1.0.0" write {"claim": ..., "equals": value}`);
    } else {
      w.fail('ERR_POLICY_OPERATOR_UNKNOWN', pointer(path, key), `unknown operator "${clip(key)}"${didYouMean(key, OPERATORS)}; ${VALID_OPERATORS}`);
    }
  }
  const [operator, ...more] = known;
  if (operator === undefined) {
    return keys.length > 0 ? null : w.fail('ERR_POLICY_OPERATOR_COUNT', path, `the condition has no operator; add exactly one (${VALID_OPERATORS})`);
  }
  if (more.length > 0) {
    return w.fail('ERR_POLICY_OPERATOR_COUNT', path, `the condition has ${known.length} operators (${known.join(', ')}); write one condition per operator inside an allOf`);
  }
  return readTest(w, operator, v[operator], pointer(path, operator));
}

function readLegacyTest(w: PolicyWalk, v: Record<string, unknown>, path: string): ConditionTest | null {
  w.checkKeys(v, path, ['claim', 'condition', 'value'], (key) =>
    isOperator(key) ? ` (version "1.0" conditions read {claim, condition, value}; set version "1.0.0" to write "${key}" as a key)` : '',
  );
  if (!Object.hasOwn(v, 'condition')) return w.fail('ERR_POLICY_SCHEMA', path, 'a version "1.0" condition needs "condition" (the operator name)');
  const operator = v.condition;
  if (typeof operator !== 'string' || !isOperator(operator)) {
    const name = typeof operator === 'string' ? `"${clip(operator)}"${didYouMean(operator, OPERATORS)}` : describeValue(operator);
    return w.fail('ERR_POLICY_OPERATOR_UNKNOWN', pointer(path, 'condition'), `unknown operator ${name}; ${VALID_OPERATORS}`);
  }
  if (!Object.hasOwn(v, 'value')) return w.fail('ERR_POLICY_SCHEMA', path, 'a version "1.0" condition needs "value"');
  return readTest(w, operator, v.value, pointer(path, 'value'));
}

function readTest(w: PolicyWalk, operator: Operator, value: unknown, path: string): ConditionTest | null {
  if (operator === 'exists') {
    if (typeof value === 'boolean') return { operator, value };
    return w.fail('ERR_POLICY_VALUE_TYPE', path, `exists takes true (the claim must be present) or false (it must be absent), not ${describeValue(value)}`);
  }
  if (operator === 'in') {
    const list = readInList(w, value, path);
    return list ? { operator, value: list } : null;
  }
  const scalar = readScalar(w, operator, value, path);
  if (scalar === null) return null;
  if ((ORDERED_OPERATORS as readonly string[]).includes(operator) && toNumeric(scalar) === null) {
    return w.fail('ERR_POLICY_VALUE_TYPE', path, `${operator} compares numbers: give a number or a numeric string (decimal or 0x hex), not ${describeValue(scalar)}`);
  }
  return { operator, value: scalar };
}

function readInList(w: PolicyWalk, value: unknown, path: string): ScalarValue[] | null {
  if (!Array.isArray(value) || value.length === 0) {
    return w.fail('ERR_POLICY_VALUE_TYPE', path, `in takes a non-empty list of strings, numbers or booleans, not ${Array.isArray(value) ? 'an empty list' : describeValue(value)}`);
  }
  if (value.length > POLICY_LIMITS.maxInValues) return w.fail('ERR_POLICY_TOO_LARGE', path, `an in list holds at most ${POLICY_LIMITS.maxInValues} values`);
  const items = value.map((item, i) => readScalar(w, 'in', item, pointer(path, i)));
  return items.every((x): x is ScalarValue => x !== null) ? items : null;
}

function readScalar(w: PolicyWalk, operator: Operator, value: unknown, path: string): ScalarValue | null {
  if (!isScalar(value)) return w.fail('ERR_POLICY_VALUE_TYPE', path, `${operator} takes a string, number or boolean, not ${describeValue(value)}`);
  if (typeof value === 'string' && value.length > POLICY_LIMITS.maxStringLength) {
    return w.fail('ERR_POLICY_TOO_LARGE', path, `values are at most ${POLICY_LIMITS.maxStringLength} characters`);
  }
  return value;
}

export function isOperator(key: string): key is Operator {
  return (OPERATORS as readonly string[]).includes(key);
}
