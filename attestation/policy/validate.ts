import type { PolicyError } from './errors.js';
import { pointer } from './pointer.js';
import { type ClaimCondition, type Combinator, type Condition, type AuthorityRule, LEGACY_POLICY_VERSION, OPERATORS, POLICY_LIMITS, POLICY_VERSION, type ReleasePolicy } from './types.js';
import { isOperator, readClaimCondition } from './validate-condition.js';
import { type PolicyForm, PolicyWalk, clip, describeValue, isRecord } from './walk.js';

/** The outcome of checking a parsed JSON document against the grammar: a policy, or every mistake found. */
export type PolicyValidation = { readonly ok: true; readonly policy: ReleasePolicy } | { readonly ok: false; readonly errors: readonly PolicyError[] };

/**
 * Checks a JSON value against the release-policy grammar and builds the policy. Unknown keys, wrong types and
 * operators, empty lists and deeper nesting are mistakes; all of them are collected (up to
 * POLICY_LIMITS.maxReportedErrors), never only the first.
 */
export function validatePolicyDocument(doc: unknown): PolicyValidation {
  if (!isRecord(doc)) {
    const w = new PolicyWalk('either');
    w.fail('ERR_POLICY_SCHEMA', '', `a release policy is a JSON object {"version": "1.0.0", "anyOf": [...]}, not ${describeValue(doc)}`);
    return { ok: false, errors: w.errors };
  }
  const { form, sourceVersion, versionError } = readVersion(doc);
  const w = new PolicyWalk(form);
  if (versionError) w.fail('ERR_POLICY_VERSION', versionError.path, versionError.message);
  w.checkKeys(doc, '', ['version', 'anyOf'], topLevelHint);
  const rules = readAuthorities(w, doc);
  if (w.errors.length > 0 || rules === null || sourceVersion === null) {
    // Every reader records a mistake before giving up; this guard only keeps "refused" from ever meaning "no reason".
    if (w.errors.length === 0) w.fail('ERR_POLICY_SCHEMA', '', 'the policy does not follow the release-policy grammar');
    return { ok: false, errors: w.errors };
  }
  return { ok: true, policy: { version: POLICY_VERSION, sourceVersion, anyOf: rules } };
}

type VersionReading = {
  form: PolicyForm;
  sourceVersion: ReleasePolicy['sourceVersion'] | null;
  versionError: { path: string; message: string } | null;
};

function readVersion(doc: Record<string, unknown>): VersionReading {
  const v = doc.version;
  if (v === POLICY_VERSION) return { form: 'current', sourceVersion: POLICY_VERSION, versionError: null };
  if (v === LEGACY_POLICY_VERSION) return { form: 'legacy', sourceVersion: LEGACY_POLICY_VERSION, versionError: null };
  const message = Object.hasOwn(doc, 'version')
    ? `version ${describeValue(v)} is not supported; write "1.0.0" (or "1.0" for the older {claim, condition, value} form)`
    : 'version is missing; add "version": "1.0.0"';
  return { form: 'either', sourceVersion: null, versionError: { path: Object.hasOwn(doc, 'version') ? '/version' : '', message } };
}

function topLevelHint(key: string): string {
  if (key === 'allOf') return ' (the top level is always anyOf over authorities; put allOf inside an authority)';
  if (key === 'authority' || key === 'claim') return ' (wrap it: {"version": "1.0.0", "anyOf": [{"authority": ..., "allOf": [...]}]})';
  return '';
}

function readAuthorities(w: PolicyWalk, doc: Record<string, unknown>): AuthorityRule[] | null {
  if (!Object.hasOwn(doc, 'anyOf')) return w.fail('ERR_POLICY_SCHEMA', '', 'anyOf (the list of authorities) is missing');
  const list = doc.anyOf;
  if (!Array.isArray(list)) return w.fail('ERR_POLICY_SCHEMA', '/anyOf', `anyOf must be a list of authorities, not ${describeValue(list)}`);
  if (list.length === 0) return w.fail('ERR_POLICY_EMPTY', '/anyOf', 'anyOf lists no authority, so nothing could ever be released');
  if (list.length > POLICY_LIMITS.maxAuthorities) return w.fail('ERR_POLICY_TOO_LARGE', '/anyOf', `a policy names at most ${POLICY_LIMITS.maxAuthorities} authorities`);
  const rules = list.map((item, i) => readAuthority(w, item, pointer('/anyOf', i)));
  return rules.every((r): r is AuthorityRule => r !== null) ? rules : null;
}

function readAuthority(w: PolicyWalk, v: unknown, path: string): AuthorityRule | null {
  if (!isRecord(v)) return w.fail('ERR_POLICY_SCHEMA', path, `an authority entry is an object {"authority": url, "allOf"|"anyOf": [...]}, not ${describeValue(v)}`);
  w.checkKeys(v, path, ['authority', 'allOf', 'anyOf'], (key) =>
    key === 'claim' || isOperator(key) ? ` (claim conditions go inside the authority's allOf or anyOf)` : '',
  );
  const authority = readAuthorityUrl(w, v, path);
  const combinator = readCombinator(w, v, path, 'an authority');
  const conditions = combinator ? readConditions(w, v[combinator], pointer(path, combinator), 0) : null;
  return authority !== null && combinator !== null && conditions !== null ? { authority, combinator, conditions } : null;
}

function readAuthorityUrl(w: PolicyWalk, v: Record<string, unknown>, path: string): string | null {
  if (!Object.hasOwn(v, 'authority')) return w.fail('ERR_POLICY_AUTHORITY', path, 'authority (the token issuer URL) is missing');
  const at = pointer(path, 'authority');
  const url = v.authority;
  if (typeof url !== 'string') return w.fail('ERR_POLICY_AUTHORITY', at, `authority must be a URL string, not ${describeValue(url)}`);
  if (url.length > POLICY_LIMITS.maxStringLength) return w.fail('ERR_POLICY_TOO_LARGE', at, `authority is longer than ${POLICY_LIMITS.maxStringLength} characters`);
  const problem = authorityProblem(url);
  return problem ? w.fail('ERR_POLICY_AUTHORITY', at, `authority "${clip(url)}" ${problem}`) : url;
}

/** Why a string cannot name a token issuer, or null. Issuers are compared as strings, so odd forms never match. */
function authorityProblem(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not an absolute URL (write e.g. "https://sharedeus.eus.attest.azure.net")';
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return 'must use https (or http for a local simulator)';
  if (url.trim() !== url) return 'has leading or trailing whitespace';
  if (parsed.username || parsed.password) return 'must not carry credentials';
  if (url.includes('?') || url.includes('#')) return 'must not have a query or fragment';
  return null;
}

function readCombinator(w: PolicyWalk, v: Record<string, unknown>, path: string, what: string): Combinator | null {
  const all = Object.hasOwn(v, 'allOf');
  const any = Object.hasOwn(v, 'anyOf');
  if (all && any) return w.fail('ERR_POLICY_COMBINATOR', path, `${what} has both allOf and anyOf; keep one and nest the other inside it`);
  if (!all && !any) return w.fail('ERR_POLICY_COMBINATOR', path, `${what} needs a condition list: allOf (every condition holds) or anyOf (at least one holds)`);
  return all ? 'allOf' : 'anyOf';
}

function readConditions(w: PolicyWalk, v: unknown, path: string, depth: number): Condition[] | null {
  if (!Array.isArray(v)) return w.fail('ERR_POLICY_SCHEMA', path, `expected a list of conditions, not ${describeValue(v)}`);
  if (v.length === 0) return w.fail('ERR_POLICY_EMPTY', path, 'the condition list is empty (an empty allOf would allow every token); list at least one condition');
  if (v.length > POLICY_LIMITS.maxConditions) return w.fail('ERR_POLICY_TOO_LARGE', path, `a condition list holds at most ${POLICY_LIMITS.maxConditions} conditions`);
  const conditions = v.map((item, i) => readCondition(w, item, pointer(path, i), depth));
  return conditions.every((c): c is Condition => c !== null) ? conditions : null;
}

function readCondition(w: PolicyWalk, v: unknown, path: string, depth: number): Condition | null {
  if (!isRecord(v)) return w.fail('ERR_POLICY_SCHEMA', path, `a condition is an object {"claim": name, <operator>: value} or {"allOf"|"anyOf": [...]}, not ${describeValue(v)}`);
  if (Object.hasOwn(v, 'claim')) return readClaimCondition(w, v, path);
  if (Object.hasOwn(v, 'allOf') || Object.hasOwn(v, 'anyOf')) return readGroup(w, v, path, depth);
  if (Object.keys(v).some((k) => isOperator(k) || k === 'condition' || k === 'value')) {
    return w.fail('ERR_POLICY_CLAIM', path, 'the condition has an operator but no "claim"');
  }
  const keys = Object.keys(v).map((k) => `"${clip(k, 40)}"`).join(', ') || 'none';
  return w.fail('ERR_POLICY_SCHEMA', path, `not a condition (keys: ${keys}); expected {"claim": name, <operator>: value} with an operator from ${OPERATORS.join(', ')}, or {"allOf"|"anyOf": [...]}`);
}

function readGroup(w: PolicyWalk, v: Record<string, unknown>, path: string, depth: number): Condition | null {
  if (depth >= 1) {
    return w.fail('ERR_POLICY_NESTING', path, 'groups nest only one level deep inside an authority (as Key Vault allows); flatten this group or split the authority');
  }
  w.checkKeys(v, path, ['allOf', 'anyOf']);
  const combinator = readCombinator(w, v, path, 'a group');
  const conditions = combinator ? readConditions(w, v[combinator], pointer(path, combinator), depth + 1) : null;
  if (combinator === null || conditions === null) return null;
  return { kind: 'group', combinator, conditions: conditions.filter((c): c is ClaimCondition => c.kind === 'claim') };
}
