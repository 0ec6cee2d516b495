import { shannonEntropy } from './checksums.js';
import type { EntityType, Span } from './spans.js';

/** Known credential formats. Each is a fixed prefix plus a bounded character class: linear. */
const SECRET_PATTERNS: ReadonlyArray<{ readonly type: EntityType; readonly detector: string; readonly pattern: RegExp }> = [
  { type: 'AWS_ACCESS_KEY', detector: 'aws-access-key-id', pattern: /\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA|ASCA)[A-Z2-7]{16}\b/g },
  { type: 'AWS_ACCESS_KEY', detector: 'aws-secret-key', pattern: /\baws_?secret_?access_?key\b["']?\s{0,3}[:=]\s{0,3}["']?[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])/gi },
  { type: 'GITHUB_TOKEN', detector: 'github-token', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{60,255})\b/g },
  { type: 'SLACK_TOKEN', detector: 'slack-token', pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,250}\b/g },
  { type: 'SLACK_TOKEN', detector: 'slack-webhook', pattern: /https:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9/_-]{20,120}/g },
  { type: 'OPENAI_KEY', detector: 'openai-key', pattern: /\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,200}\b/g },
  { type: 'SECRET', detector: 'anthropic-key', pattern: /\bsk-ant-[A-Za-z0-9_-]{20,200}\b/g },
  { type: 'SECRET', detector: 'google-api-key', pattern: /\bAIza[0-9A-Za-z_-]{35}\b/g },
  { type: 'SECRET', detector: 'stripe-key', pattern: /\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,99}\b/g },
  { type: 'JWT', detector: 'jwt', pattern: /\beyJ[A-Za-z0-9_-]{8,4096}\.eyJ[A-Za-z0-9_-]{8,8192}\.[A-Za-z0-9_-]{8,4096}/g },
];

/** A PEM private key, complete; the stream also holds back from a BEGIN line until its END line. */
export const PEM_BEGIN = /-----BEGIN (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY(?: BLOCK)?-----/g;
const PEM_END = /-----END (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY(?: BLOCK)?-----/g;

/** Options of the generic high-entropy detector. */
export interface EntropyOptions {
  /** Bits per character at or above which a token counts as a secret. Default 4.0. */
  readonly minBits: number;
  /** Minimum token length. Default 24. */
  readonly minLength: number;
}

export const DEFAULT_ENTROPY: EntropyOptions = { minBits: 4, minLength: 24 };

// Candidate tokens for the entropy check: long runs of base64/hex/url-safe characters.
const TOKEN = /[A-Za-z0-9+/_=-]{24,1024}/g;

/** Finds credentials: known formats, PEM private keys, and long high-entropy tokens. */
export function findSecretSpans(text: string, entropy: EntropyOptions = DEFAULT_ENTROPY): Span[] {
  const out: Span[] = [];
  for (const { type, detector, pattern } of SECRET_PATTERNS) {
    for (const m of text.matchAll(pattern)) out.push({ start: m.index, end: m.index + m[0].length, type, detector });
  }
  for (const m of text.matchAll(PEM_BEGIN)) {
    PEM_END.lastIndex = m.index;
    const end = PEM_END.exec(text);
    // An unterminated key is redacted to the end: fail closed.
    out.push({ start: m.index, end: end === null ? text.length : end.index + end[0].length, type: 'PRIVATE_KEY', detector: 'pem-private-key' });
  }
  for (const m of text.matchAll(TOKEN)) {
    if (m[0].length >= entropy.minLength && looksRandom(m[0], entropy.minBits)) out.push({ start: m.index, end: m.index + m[0].length, type: 'SECRET', detector: 'high-entropy' });
  }
  return out;
}

/**
 * Random tokens mix cases and digits and have high per-character entropy; words, paths and
 * hex-only hashes of the same length do not reach the threshold (hex tops out at 4 bits).
 */
function looksRandom(token: string, minBits: number): boolean {
  if (!/\d/.test(token) || !/[A-Z]/.test(token) || !/[a-z]/.test(token)) return false;
  if (/^[A-Za-z]+(?:[-_/][A-Za-z]+)+$/.test(token)) return false;
  return shannonEntropy(token) >= minBits;
}
