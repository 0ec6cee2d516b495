import { findDuplicateKeys } from './duplicate-keys.js';
import { PolicyError, PolicyErrors } from './errors.js';
import { POLICY_LIMITS, type ReleasePolicy } from './types.js';
import { type PolicyValidation, validatePolicyDocument } from './validate.js';

/**
 * Parses a Key Vault release policy (grammar "1.0.0", or the older "1.0" `{claim, condition, value}` form,
 * which is normalised) plus zt4ai's `in` operator. Accepts JSON text, UTF-8 bytes or an already-parsed value.
 * Throws PolicyErrors (a PolicyError) listing every mistake with its code and JSON pointer; throws nothing else.
 */
export function parseReleasePolicy(input: string | Uint8Array | unknown): ReleasePolicy {
  const result = checkReleasePolicy(input);
  if (!result.ok) throw new PolicyErrors(result.errors);
  return result.policy;
}

/** Like parseReleasePolicy, but returns the mistakes instead of throwing. */
export function checkReleasePolicy(input: string | Uint8Array | unknown): PolicyValidation {
  const text = toText(input);
  if (text instanceof PolicyError) return { ok: false, errors: [text] };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { ok: false, errors: [new PolicyError('ERR_POLICY_JSON', '', `the policy is not valid JSON: ${(e as Error).message}`)] };
  }
  const duplicates = findDuplicateKeys(text, POLICY_LIMITS.maxReportedErrors);
  const result = validatePolicyDocument(doc);
  if (duplicates.length === 0) return result;
  const dupErrors = duplicates.map((path) => new PolicyError('ERR_POLICY_DUPLICATE_KEY', path, 'this key appears more than once in its object; JSON keeps only the last value, so remove the duplicate'));
  return { ok: false, errors: [...dupErrors, ...(result.ok ? [] : result.errors)].slice(0, POLICY_LIMITS.maxReportedErrors) };
}

/**
 * Every input goes through JSON text: bytes must be UTF-8, values must serialise (no cycles, BigInts or throwing
 * getters), and the byte limit applies to all forms alike.
 */
function toText(input: unknown): string | PolicyError {
  let text: string;
  if (typeof input === 'string') text = input;
  else if (input instanceof Uint8Array) {
    if (input.length > POLICY_LIMITS.maxBytes) return tooLarge(input.length);
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(input);
    } catch {
      return new PolicyError('ERR_POLICY_JSON', '', 'the policy is not valid UTF-8');
    }
  } else {
    const serialised = serialise(input);
    if (serialised instanceof PolicyError) return serialised;
    text = serialised;
  }
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > POLICY_LIMITS.maxBytes) return tooLarge(bytes);
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}

function serialise(input: unknown): string | PolicyError {
  try {
    const text = JSON.stringify(input);
    if (typeof text === 'string') return text;
  } catch (e) {
    return new PolicyError('ERR_POLICY_JSON', '', `the policy value cannot be represented as JSON: ${e instanceof Error ? e.message : 'reading it threw'}`);
  }
  return new PolicyError('ERR_POLICY_JSON', '', `the policy value cannot be represented as JSON (${typeof input})`);
}

function tooLarge(bytes: number): PolicyError {
  return new PolicyError('ERR_POLICY_TOO_LARGE', '', `the policy is ${bytes} bytes; the limit is ${POLICY_LIMITS.maxBytes}`);
}
