import { compareNumeric, stringForm, toNumeric } from './compare.js';
import { type ClaimLookup, lookupClaim } from './lookup.js';
import type { ClaimCondition, OrderedOperator, ScalarValue } from './types.js';

/** The verdict on one claim condition, with what was expected and what the claims held. */
export interface ClauseResult {
  readonly kind: 'claim';
  /** JSON pointer of the condition in the policy, e.g. /anyOf/0/allOf/2. */
  readonly path: string;
  readonly claim: string;
  readonly operator: ClaimCondition['operator'];
  readonly expected: ScalarValue | readonly ScalarValue[];
  /** False when the claim is absent; `actual` is then omitted. */
  readonly present: boolean;
  readonly actual?: unknown;
  readonly passed: boolean;
  /** Why it passed or failed, in words ("2 is below 3", "claim is absent", "not comparable: ..."). */
  readonly reason: string;
}

type Outcome = { passed: boolean; reason: string };

/** Evaluates one condition against a claim set. Fails closed: absent or non-scalar claims fail. */
export function evaluateClaimCondition(cond: ClaimCondition, claims: object, path: string): ClauseResult {
  const found = lookupClaim(claims, cond.claim);
  const outcome = decide(cond, found);
  return {
    kind: 'claim',
    path,
    claim: cond.claim,
    operator: cond.operator,
    expected: cond.value,
    present: found.present,
    ...(found.present ? { actual: found.value } : {}),
    ...outcome,
  };
}

function decide(cond: ClaimCondition, found: ClaimLookup): Outcome {
  if (cond.operator === 'exists') {
    const passed = found.present === cond.value;
    return { passed, reason: found.present ? 'claim is present' : 'claim is absent' };
  }
  // A missing claim fails every other operator, notEquals included: absence is not evidence of a different value.
  if (!found.present) return { passed: false, reason: 'claim is absent' };
  if (cond.operator === 'in') return decideIn(cond.value, found.value);
  if (cond.operator === 'equals' || cond.operator === 'notEquals') return decideEquality(cond.operator, cond.value, found.value);
  return decideOrder(cond.operator, cond.value, found.value);
}

function decideEquality(operator: 'equals' | 'notEquals', expected: ScalarValue, actual: unknown): Outcome {
  const a = stringForm(actual);
  if (a === null) return { passed: false, reason: `not comparable: the claim is ${shape(actual)}, not a string, number or boolean` };
  const same = a === stringForm(expected);
  if (operator === 'equals') return { passed: same, reason: same ? 'equal as strings' : 'values differ' };
  return { passed: !same, reason: same ? 'values are equal' : 'values differ' };
}

function decideIn(expected: readonly ScalarValue[], actual: unknown): Outcome {
  const a = stringForm(actual);
  if (a === null) return { passed: false, reason: `not comparable: the claim is ${shape(actual)}, not a string, number or boolean` };
  const passed = expected.some((e) => stringForm(e) === a);
  return { passed, reason: passed ? 'value is in the list' : 'value is not in the list' };
}

const ORDER_TEXT: Record<OrderedOperator, { test: (c: number) => boolean; sign: string }> = {
  greater: { test: (c) => c > 0, sign: '>' },
  greaterOrEquals: { test: (c) => c >= 0, sign: '>=' },
  less: { test: (c) => c < 0, sign: '<' },
  lessOrEquals: { test: (c) => c <= 0, sign: '<=' },
};

/** Ordered operators compare numerically or not at all: "10" > "9" holds, "abc" > 1 fails as not comparable. */
function decideOrder(operator: OrderedOperator, expected: ScalarValue, actual: unknown): Outcome {
  const a = toNumeric(actual);
  const e = toNumeric(expected);
  if (a === null) return { passed: false, reason: `not comparable: the claim is ${shape(actual)}, not a number or numeric string` };
  if (e === null) return { passed: false, reason: 'not comparable: the policy value is not a number or numeric string' };
  const { test, sign } = ORDER_TEXT[operator];
  const passed = test(compareNumeric(a, e));
  return { passed, reason: `${stringForm(actual) ?? '?'} ${passed ? '' : 'is not '}${sign} ${stringForm(expected) ?? '?'}` };
}

function shape(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  return `a ${typeof v}`;
}
