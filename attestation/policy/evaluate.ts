import { type ClauseResult, evaluateClaimCondition } from './evaluate-condition.js';
import { pointer } from './pointer.js';
import type { AuthorityRule, Combinator, Condition, ReleasePolicy } from './types.js';

export type { ClauseResult } from './evaluate-condition.js';

/** A nested anyOf/allOf group and the results of its claim conditions. */
export interface GroupResult {
  readonly kind: 'group';
  readonly path: string;
  readonly combinator: Combinator;
  readonly passed: boolean;
  readonly conditions: readonly ClauseResult[];
}

export type ConditionResult = ClauseResult | GroupResult;

/** How an authority relates to the token issuer: equal, different (rule skipped), or no issuer to compare with. */
export type IssuerCheck = 'matched' | 'mismatched' | 'not-checked';

export interface AuthorityResult {
  /** JSON pointer of the authority entry, e.g. /anyOf/1. */
  readonly path: string;
  readonly authority: string;
  readonly issuer: IssuerCheck;
  readonly combinator: Combinator;
  /** The rule applied (issuer matched or not checked) and its conditions held. */
  readonly passed: boolean;
  /** Empty when the issuer did not match: the rule's conditions were not evaluated. */
  readonly conditions: readonly ConditionResult[];
}

export interface PolicyDecision {
  readonly allowed: boolean;
  /** The first authority (as written in the policy) whose rule held, or null. */
  readonly matchedAuthority: string | null;
  /** The issuer authorities were matched against; null when none was given (see `issuerChecked`). */
  readonly issuer: string | null;
  /** False when evaluating claims with no token issuer (e.g. local evidence): authorities were not matched. */
  readonly issuerChecked: boolean;
  /** When denied: every failing clause that made an applicable authority fail. Empty when allowed. */
  readonly failures: readonly ClauseResult[];
  readonly results: readonly AuthorityResult[];
}

export interface EvaluateOptions {
  /** The token's `iss`. Leave undefined only for claims without an issuer, such as locally verified evidence. */
  readonly issuer?: string | undefined;
}

/**
 * Decides a release the way Key Vault does: the top-level anyOf holds when some authority that equals the token
 * issuer (one trailing "/" ignored on either side) has all (allOf) or any (anyOf) of its conditions met. Every
 * applicable authority is evaluated in full so that a denial lists every failing clause. Pure: no I/O, no clock.
 */
export function evaluateReleasePolicy(policy: ReleasePolicy, claims: object, options: EvaluateOptions = {}): PolicyDecision {
  const issuer = options.issuer;
  const results = policy.anyOf.map((rule, i) => evaluateAuthority(rule, claims, issuer, pointer('/anyOf', i)));
  const matched = results.find((r) => r.passed);
  return {
    allowed: matched !== undefined,
    matchedAuthority: matched?.authority ?? null,
    issuer: issuer ?? null,
    issuerChecked: issuer !== undefined,
    failures: matched ? [] : results.flatMap(failingClauses),
    results,
  };
}

/** Authorities and issuers compare as strings with one trailing "/" removed (Microsoft writes both forms). */
export function normaliseAuthority(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}

export function authorityMatches(authority: string, issuer: string): boolean {
  return normaliseAuthority(authority) === normaliseAuthority(issuer);
}

function evaluateAuthority(rule: AuthorityRule, claims: object, issuer: string | undefined, path: string): AuthorityResult {
  const base = { path, authority: rule.authority, combinator: rule.combinator };
  if (issuer !== undefined && !authorityMatches(rule.authority, issuer)) return { ...base, issuer: 'mismatched', passed: false, conditions: [] };
  const listPath = pointer(path, rule.combinator);
  const conditions = rule.conditions.map((c, i) => evaluateCondition(c, claims, pointer(listPath, i)));
  return { ...base, issuer: issuer === undefined ? 'not-checked' : 'matched', passed: combine(rule.combinator, conditions), conditions };
}

function evaluateCondition(cond: Condition, claims: object, path: string): ConditionResult {
  if (cond.kind === 'claim') return evaluateClaimCondition(cond, claims, path);
  const listPath = pointer(path, cond.combinator);
  const conditions = cond.conditions.map((c, i) => evaluateClaimCondition(c, claims, pointer(listPath, i)));
  return { kind: 'group', path, combinator: cond.combinator, passed: combine(cond.combinator, conditions), conditions };
}

/** Every child is evaluated (no short circuit) so explanations are complete. */
function combine(combinator: Combinator, results: readonly { passed: boolean }[]): boolean {
  return combinator === 'allOf' ? results.every((r) => r.passed) : results.some((r) => r.passed);
}

/** Clauses that caused a failed authority to fail; a group that held contributes nothing. */
function failingClauses(result: AuthorityResult): ClauseResult[] {
  if (result.passed || result.issuer === 'mismatched') return [];
  return result.conditions.flatMap((c) => (c.passed ? [] : c.kind === 'claim' ? [c] : c.conditions.filter((x) => !x.passed)));
}
