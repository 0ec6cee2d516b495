import { type ClauseResult, type PolicyDecision, evaluateReleasePolicy, explainClause, isPolicyError, parseReleasePolicy } from '../../attestation/policy/index.js';
import type { JsonValue } from '../../keys/audit/index.js';
import type { KeyVersionInfo } from '../../keys/keystore/index.js';
import { type TeeJwk, checkTeeKey } from '../../keys/wrap/index.js';
import { KrsError, type KrsErrorDetail } from './errors.js';
import type { VerifiedTarget } from './trusted-issuers.js';

/** One failing clause as a 403 lists it and the audit log records it. */
export interface ClauseDetail extends KrsErrorDetail {
  readonly claim: string;
  readonly operator: string;
  readonly expected: JsonValue;
  readonly actual?: JsonValue;
  readonly path: string;
}

/** The reasons of a denial, kept for the audit log even when the response leaves them out. */
export class ReleaseDenial extends KrsError {
  readonly reasons: readonly KrsErrorDetail[];
  constructor(reasons: readonly KrsErrorDetail[], withDetails: boolean) {
    super('ERR_RELEASE_POLICY_DENIED', undefined, { details: withDetails ? reasons : [] });
    this.reasons = reasons;
  }
}

/**
 * Evaluates a key's release policy on a verified target (authority = token `iss`). Throws ReleaseDenial
 * listing every failing clause (or that no authority names the issuer), ERR_RELEASE_POLICY_INVALID when the
 * stored policy does not parse; returns the authority that allowed the release.
 */
export function decideRelease(key: KeyVersionInfo, target: VerifiedTarget, withDetails: boolean): string {
  if (key.releasePolicy === null) throw new KrsError('ERR_RELEASE_POLICY_INVALID', `key "${key.name}" has no release policy`);
  let decision: PolicyDecision;
  try {
    decision = evaluateReleasePolicy(parseReleasePolicy(Buffer.from(key.releasePolicy.data, 'base64url')), target.claims, { issuer: target.issuer });
  } catch (e) {
    if (!isPolicyError(e)) throw e;
    throw new KrsError('ERR_RELEASE_POLICY_INVALID', `the release policy of key "${key.name}" does not parse: ${e.code}`, { cause: e });
  }
  if (decision.allowed) return decision.matchedAuthority!;
  const reasons: KrsErrorDetail[] = decision.failures.length > 0 ? decision.failures.map(clauseDetail) : [{ code: 'ERR_POLICY_AUTHORITY_MISMATCH', message: `no authority of the policy is the token issuer ${target.issuer.slice(0, 200)}` }];
  throw new ReleaseDenial(reasons, withDetails);
}

function clauseDetail(c: ClauseResult): ClauseDetail {
  return {
    code: 'ERR_POLICY_CLAUSE_FAILED',
    message: explainClause(c),
    claim: c.claim,
    operator: c.operator,
    expected: c.expected as JsonValue,
    ...(c.present ? { actual: boundedValue(c.actual) } : {}),
    path: c.path,
  };
}

/** Claim values as evidence, bounded: a large or nested claim is summarised rather than copied. */
function boundedValue(v: unknown): JsonValue {
  if (v === null || typeof v === 'boolean' || typeof v === 'number') return v;
  if (typeof v === 'string') return v.length > 256 ? `${v.slice(0, 256)}...` : v;
  return `[${Array.isArray(v) ? 'list' : 'object'}]`;
}

/**
 * The TEE's wrapping key: the first RSA JWK in the token's top-level `x-ms-runtime.keys` (what the Azure
 * sidecar and Key Vault use). Its shape is checked by checkTeeKey (RSA 2048-8192 with a kid, may encrypt).
 */
export function teeKeyOf(claims: VerifiedTarget['claims']): TeeJwk {
  const runtime = claims['x-ms-runtime'];
  const keys = runtime !== null && typeof runtime === 'object' ? (runtime as { keys?: unknown }).keys : undefined;
  const jwk = Array.isArray(keys) ? keys.find((k) => k !== null && typeof k === 'object' && (k as { kty?: unknown }).kty === 'RSA') : undefined;
  if (!jwk) throw new KrsError('ERR_TARGET_NO_TEE_KEY');
  checkTeeKey(jwk);
  return jwk as TeeJwk;
}
