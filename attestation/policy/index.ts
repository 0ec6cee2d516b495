/**
 * Release policies: Azure Key Vault Secure Key Release's grammar (plus zt4ai's `in`), parsed strictly and
 * evaluated over claims as pure data in, decision out.
 */
export { type CompatibilityNote, azureCompatibilityNotes } from './compat.js';
export { POLICY_ERROR_CODES, type PolicyErrorCode, PolicyError, PolicyErrors, formatPolicyError, isPolicyError, policyMistakes } from './errors.js';
export {
  type AuthorityResult,
  type ClauseResult,
  type ConditionResult,
  type EvaluateOptions,
  type GroupResult,
  type IssuerCheck,
  type PolicyDecision,
  authorityMatches,
  evaluateReleasePolicy,
  normaliseAuthority,
} from './evaluate.js';
export { explainClause, explainDecision } from './explain.js';
export { type ClaimLookup, lookupClaim } from './lookup.js';
export { checkReleasePolicy, parseReleasePolicy } from './parse.js';
export { type ReleasePolicyDocument, releasePolicyDocument, serializeReleasePolicy } from './serialize.js';
export * from './types.js';
export type { PolicyValidation } from './validate.js';
