/**
 * Mistakes in a release policy. Each carries a stable `code` (tools switch on it, codes never change meaning)
 * and a JSON pointer `path` to the offending spot, so an operator can fix a policy without guessing.
 */
export const POLICY_ERROR_CODES = {
  ERR_POLICY_JSON: 'the policy is not valid UTF-8 JSON',
  ERR_POLICY_TOO_LARGE: 'the policy exceeds a size limit (bytes, authorities, conditions, list entries or string length)',
  ERR_POLICY_DUPLICATE_KEY: 'an object names the same key twice (JSON keeps only the last one, so the first is silently lost)',
  ERR_POLICY_SCHEMA: 'a value has the wrong JSON type, a required key is missing or a key is not part of the grammar',
  ERR_POLICY_VERSION: 'version is missing or not "1.0.0" (or "1.0" for the older {claim, condition, value} form)',
  ERR_POLICY_EMPTY: 'an anyOf or allOf list is empty (an empty allOf would allow everything)',
  ERR_POLICY_COMBINATOR: 'an authority or group needs exactly one of allOf and anyOf',
  ERR_POLICY_AUTHORITY: 'authority is not an absolute http(s) URL without credentials, query or fragment',
  ERR_POLICY_CLAIM: 'claim is not a non-empty name (dotted paths must not have empty segments)',
  ERR_POLICY_OPERATOR_UNKNOWN: 'a claim condition uses an operator the grammar does not define',
  ERR_POLICY_OPERATOR_COUNT: 'a claim condition needs exactly one operator',
  ERR_POLICY_VALUE_TYPE: "an operator's value has the wrong type for that operator",
  ERR_POLICY_NESTING: 'conditions nest deeper than one anyOf/allOf group inside an authority',
} as const;

export type PolicyErrorCode = keyof typeof POLICY_ERROR_CODES;

/** One mistake at one place. `path` is a JSON pointer into the policy document ("" is the whole document). */
export class PolicyError extends Error {
  override readonly name: string = 'PolicyError';
  readonly code: PolicyErrorCode;
  readonly path: string;

  constructor(code: PolicyErrorCode, path: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.path = path;
  }

  toJSON(): { code: PolicyErrorCode; path: string; message: string } {
    return { code: this.code, path: this.path, message: this.message };
  }
}

/**
 * Every mistake found in one policy, thrown by `parseReleasePolicy`. It is itself a PolicyError (code and
 * path of the first mistake) so `catch (e) { if (e instanceof PolicyError) ... }` catches everything parsing throws.
 */
export class PolicyErrors extends PolicyError {
  override readonly name: string = 'PolicyErrors';
  readonly errors: readonly PolicyError[];

  constructor(errors: readonly PolicyError[]) {
    const first = errors[0];
    if (!first) throw new RangeError('PolicyErrors needs at least one PolicyError');
    super(first.code, first.path, summarise(errors));
    this.errors = errors;
  }
}

/** The individual mistakes behind any PolicyError (one for a plain PolicyError, all of them for PolicyErrors). */
export function policyMistakes(e: PolicyError): readonly PolicyError[] {
  return e instanceof PolicyErrors ? e.errors : [e];
}

export function isPolicyError(e: unknown): e is PolicyError {
  return e instanceof PolicyError;
}

/** Renders a mistake as `<path>: <message> [<code>]`, with "(document)" for the root path. */
export function formatPolicyError(e: PolicyError): string {
  return `${e.path === '' ? '(document)' : e.path}: ${e.message} [${e.code}]`;
}

function summarise(errors: readonly PolicyError[]): string {
  const head = `the release policy has ${errors.length} mistake${errors.length === 1 ? '' : 's'}`;
  return [head, ...errors.map((e) => `  ${formatPolicyError(e)}`)].join('\n');
}
