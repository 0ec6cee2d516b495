import { createHash } from 'node:crypto';
import { GuardianError } from '../errors.js';
import type { RuleFamily } from './rules.js';

/** What the guardian does with a request. */
export type Verdict = 'allow' | 'flag' | 'block';

/** Calibrated-score thresholds: at or above `block` the request is stopped, at or above `flag` it is marked. */
export interface Thresholds {
  readonly flag: number;
  readonly block: number;
}

/** Per-deployment policy. Every field has a default; pass only what differs. */
export interface GuardPolicy {
  /** For the user's own message. Default: the values tuned on dev and stored with the model. */
  readonly user: Thresholds;
  /** For documents and tool outputs the request carries. Default: same as `user`. */
  readonly document: Thresholds;
  /** Action per rule family, overriding each rule's own severity (e.g. `{ 'role-change': 'flag' }` for a red-team deployment). */
  readonly familyActions: Readonly<Partial<Record<RuleFamily, Verdict>>>;
  /** Known-good prompts: exact texts and/or SHA-256 hex digests (of the raw UTF-8 text or of its normalised form). */
  readonly allowList: { readonly exact?: readonly string[]; readonly sha256?: readonly string[] };
  /** Longer inputs are blocked without scanning (fail closed). Default 262,144 characters. */
  readonly maxInputChars: number;
}

/** Fills defaults and checks ranges; throws ERR_GUARD_CONFIG on a bad value. */
export function resolvePolicy(defaults: Thresholds, policy: Partial<GuardPolicy> = {}): GuardPolicy {
  const user = policy.user ?? defaults;
  const document = policy.document ?? user;
  for (const [name, t] of [['user', user], ['document', document]] as const) checkThresholds(name, t);
  const maxInputChars = policy.maxInputChars ?? 262_144;
  if (!Number.isInteger(maxInputChars) || maxInputChars < 1) throw new GuardianError('ERR_GUARD_CONFIG', 'maxInputChars must be a positive integer');
  for (const h of policy.allowList?.sha256 ?? []) {
    if (!/^[0-9a-f]{64}$/i.test(h)) throw new GuardianError('ERR_GUARD_CONFIG', 'allowList.sha256 entries must be 64 hex digits');
  }
  return { user, document, familyActions: policy.familyActions ?? {}, allowList: policy.allowList ?? {}, maxInputChars };
}

function checkThresholds(name: string, t: Thresholds): void {
  const ok = (x: number) => Number.isFinite(x) && x >= 0 && x <= 1;
  if (!ok(t.flag) || !ok(t.block) || t.flag > t.block) throw new GuardianError('ERR_GUARD_CONFIG', `${name} thresholds must satisfy 0 <= flag <= block <= 1`);
}

/** Exact and hashed allow-list lookups, precomputed once per guardian. */
export class AllowList {
  private readonly exact: ReadonlySet<string>;
  private readonly hashes: ReadonlySet<string>;

  constructor(list: GuardPolicy['allowList']) {
    this.exact = new Set(list.exact ?? []);
    this.hashes = new Set((list.sha256 ?? []).map((h) => h.toLowerCase()));
  }

  get empty(): boolean {
    return this.exact.size === 0 && this.hashes.size === 0;
  }

  /** How `raw` (or its normalised form) matched, or null. */
  match(raw: string, normalised: string): 'exact' | 'sha256' | null {
    if (this.exact.has(raw) || this.exact.has(normalised)) return 'exact';
    if (this.hashes.size === 0) return null;
    if (this.hashes.has(sha256Hex(raw)) || this.hashes.has(sha256Hex(normalised))) return 'sha256';
    return null;
  }
}

/** SHA-256 of the UTF-8 text, lower-case hex. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The stricter of two verdicts. */
export function stricter(a: Verdict, b: Verdict): Verdict {
  const rank = { allow: 0, flag: 1, block: 2 } as const;
  return rank[a] >= rank[b] ? a : b;
}
