/** Entity types the output guardian redacts; each becomes a `[REDACTED:TYPE]` placeholder. */
export type EntityType =
  | 'EMAIL_ADDRESS' | 'PHONE_NUMBER' | 'CREDIT_CARD' | 'IBAN_CODE' | 'US_SSN' | 'US_DRIVER_LICENSE' | 'UK_NINO' | 'CA_SIN'
  | 'IP_ADDRESS' | 'PERSON' | 'LOCATION'
  | 'AWS_ACCESS_KEY' | 'GITHUB_TOKEN' | 'SLACK_TOKEN' | 'OPENAI_KEY' | 'JWT' | 'PRIVATE_KEY' | 'SECRET'
  | 'SYSTEM_PROMPT' | 'CANARY';

/** A detected entity: [start, end) in the scanned text. */
export interface Span {
  readonly start: number;
  readonly end: number;
  readonly type: EntityType;
  /** Which detector found it (for explanations and the eval's error analysis). */
  readonly detector: string;
}

/** Earlier-listed detectors win overlaps: checksummed and secret patterns before names and places. */
const PRIORITY: Readonly<Record<EntityType, number>> = {
  CANARY: 0, PRIVATE_KEY: 1, JWT: 2, AWS_ACCESS_KEY: 3, GITHUB_TOKEN: 3, SLACK_TOKEN: 3, OPENAI_KEY: 3, SYSTEM_PROMPT: 4,
  EMAIL_ADDRESS: 5, IBAN_CODE: 6, CREDIT_CARD: 7, US_SSN: 8, UK_NINO: 8, CA_SIN: 8, US_DRIVER_LICENSE: 9, IP_ADDRESS: 10,
  PHONE_NUMBER: 11, SECRET: 12, LOCATION: 13, PERSON: 14,
};

/** Resolves overlaps: higher-priority spans first, then longer ones; the result is sorted by start. */
export function resolveOverlaps(spans: readonly Span[]): Span[] {
  const ordered = [...spans].sort((a, b) => PRIORITY[a.type] - PRIORITY[b.type] || b.end - b.start - (a.end - a.start) || a.start - b.start);
  // Kept spans never overlap, so sorted by start they are also sorted by end: a binary search finds the
  // only candidates for an overlap (O(n log n) comparisons on texts with thousands of findings).
  const kept: Span[] = [];
  for (const s of ordered) {
    if (s.end <= s.start) continue;
    let lo = 0;
    let hi = kept.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (kept[mid]!.start < s.start) lo = mid + 1;
      else hi = mid;
    }
    const prev = kept[lo - 1];
    const next = kept[lo];
    if ((prev !== undefined && prev.end > s.start) || (next !== undefined && next.start < s.end)) continue;
    kept.splice(lo, 0, s);
  }
  return kept;
}

/** Replaces each span with its placeholder; text outside spans is untouched. */
export function applyRedactions(text: string, spans: readonly Span[]): string {
  if (spans.length === 0) return text;
  let out = '';
  let at = 0;
  for (const s of spans) {
    out += text.slice(at, s.start) + placeholder(s.type);
    at = s.end;
  }
  return out + text.slice(at);
}

export function placeholder(type: EntityType): string {
  return `[REDACTED:${type}]`;
}
