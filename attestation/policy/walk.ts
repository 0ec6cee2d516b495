import { PolicyError, type PolicyErrorCode } from './errors.js';
import { pointer } from './pointer.js';
import { didYouMean } from './suggest.js';
import { POLICY_LIMITS } from './types.js';

/** Which condition form a document may use: its declared version's, or either when the version is wrong. */
export type PolicyForm = 'current' | 'legacy' | 'either';

/** State of one validation pass: every mistake is recorded and the walk goes on, so all are reported at once. */
export class PolicyWalk {
  readonly errors: PolicyError[] = [];
  conditions = 0;

  constructor(readonly form: PolicyForm) {}

  /** Records a mistake and returns null so readers can `return walk.fail(...)`. */
  fail(code: PolicyErrorCode, path: string, message: string): null {
    if (this.errors.length < POLICY_LIMITS.maxReportedErrors) this.errors.push(new PolicyError(code, path, message));
    return null;
  }

  /** Reports every key of `obj` not in `allowed`; `hint` may explain a key that belongs elsewhere. */
  checkKeys(obj: Record<string, unknown>, path: string, allowed: readonly string[], hint: (key: string) => string = () => ''): void {
    for (const key of Object.keys(obj)) {
      if (allowed.includes(key)) continue;
      const why = hint(key) || didYouMean(key, allowed);
      this.fail('ERR_POLICY_SCHEMA', pointer(path, key), `unknown key "${clip(key)}"; allowed here: ${allowed.join(', ')}${why}`);
    }
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** What a wrong value is, for messages ("a list", "null", "a number"). */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(clip(v))}`;
  return `${typeof v === 'number' ? 'the number' : 'the boolean'} ${String(v)}`;
}

/** Keeps user text in messages short. */
export function clip(s: string, max = 80): string {
  return s.length > max ? `${s.slice(0, max)}...` : s;
}
