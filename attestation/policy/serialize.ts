import type { ClaimCondition, Condition, ReleasePolicy } from './types.js';

/** A policy as plain JSON in the current grammar, keys in a fixed order: what Key Vault and zt4ai read. */
export interface ReleasePolicyDocument {
  version: '1.0.0';
  anyOf: Array<{ authority: string } & Partial<Record<'allOf' | 'anyOf', unknown[]>>>;
}

/** The canonical JSON object of a policy (legacy "1.0" input comes out in the "1.0.0" form). */
export function releasePolicyDocument(policy: ReleasePolicy): ReleasePolicyDocument {
  return {
    version: policy.version,
    anyOf: policy.anyOf.map((rule) => ({ authority: rule.authority, [rule.combinator]: rule.conditions.map(conditionDocument) })),
  };
}

/**
 * Canonical JSON text: fixed key order (version, anyOf; authority, then the list; claim, then the operator), no
 * whitespace unless `indent` is given. parseReleasePolicy(serializeReleasePolicy(p)) equals p (bar sourceVersion).
 */
export function serializeReleasePolicy(policy: ReleasePolicy, options: { indent?: number } = {}): string {
  return JSON.stringify(releasePolicyDocument(policy), null, options.indent);
}

function conditionDocument(c: Condition): Record<string, unknown> {
  if (c.kind === 'claim') return claimDocument(c);
  return { [c.combinator]: c.conditions.map(claimDocument) };
}

function claimDocument(c: ClaimCondition): Record<string, unknown> {
  return { claim: c.claim, [c.operator]: c.value };
}
