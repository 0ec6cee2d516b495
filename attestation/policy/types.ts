/**
 * The release-policy model: Azure Key Vault Secure Key Release grammar ("1.0.0"), plus zt4ai's `in` operator.
 * A parsed policy is immutable data; parse.ts builds it, evaluate.ts reads it, serialize.ts writes it back.
 */

/** The grammar version written by zt4ai and accepted by Key Vault. */
export const POLICY_VERSION = '1.0.0';
/** The pre-GA version whose conditions read `{claim, condition, value}`; accepted and normalised. */
export const LEGACY_POLICY_VERSION = '1.0';

/** Key Vault's operators. Key Vault documents only `equals` as enforced today; the others are reserved there. */
export const COMPARISON_OPERATORS = ['equals', 'notEquals', 'greater', 'greaterOrEquals', 'less', 'lessOrEquals'] as const;
/** Every operator zt4ai evaluates; `in` is a zt4ai extension that Key Vault does not know. */
export const OPERATORS = [...COMPARISON_OPERATORS, 'exists', 'in'] as const;
/** Operators that order values; they compare numerically or fail (never lexicographically). */
export const ORDERED_OPERATORS = ['greater', 'greaterOrEquals', 'less', 'lessOrEquals'] as const;

export type ComparisonOperator = (typeof COMPARISON_OPERATORS)[number];
export type OrderedOperator = (typeof ORDERED_OPERATORS)[number];
export type Operator = (typeof OPERATORS)[number];
export type Combinator = 'allOf' | 'anyOf';

export type ScalarValue = string | number | boolean;

/** An operator with its value; the union ties each operator to the value type it takes. */
export type ConditionTest =
  | { readonly operator: ComparisonOperator; readonly value: ScalarValue }
  | { readonly operator: 'exists'; readonly value: boolean }
  | { readonly operator: 'in'; readonly value: readonly ScalarValue[] };

/** One `{claim, <operator>: value}` test. */
export type ClaimCondition = { readonly kind: 'claim'; readonly claim: string } & ConditionTest;

/** A nested `{anyOf|allOf: [...]}` inside an authority; it holds claim conditions only (one level of nesting). */
export interface ConditionGroup {
  readonly kind: 'group';
  readonly combinator: Combinator;
  readonly conditions: readonly ClaimCondition[];
}

export type Condition = ClaimCondition | ConditionGroup;

/** One entry of the top-level anyOf: conditions that apply to tokens issued by `authority`. */
export interface AuthorityRule {
  /** As written in the policy; matched against the token issuer with one trailing "/" ignored. */
  readonly authority: string;
  readonly combinator: Combinator;
  readonly conditions: readonly Condition[];
}

export interface ReleasePolicy {
  /** Always the current grammar after parsing; `sourceVersion` says what the document declared. */
  readonly version: typeof POLICY_VERSION;
  readonly sourceVersion: typeof POLICY_VERSION | typeof LEGACY_POLICY_VERSION;
  readonly anyOf: readonly AuthorityRule[];
}

/** Input bounds: a policy is operator-written configuration, so anything larger is a mistake or an attack. */
export const POLICY_LIMITS = {
  maxBytes: 64 * 1024,
  maxAuthorities: 64,
  /** Claim conditions in the whole policy, nested ones included. */
  maxConditions: 1024,
  maxInValues: 256,
  maxStringLength: 4096,
  maxClaimLength: 256,
  /** Mistakes reported per parse; the rest are summarised. */
  maxReportedErrors: 100,
} as const;
