import { randomBytes } from 'node:crypto';
import { GuardianError } from '../errors.js';
import type { Span } from './spans.js';

/**
 * System-prompt leak detection: canary tokens placed in the system prompt (any verbatim appearance in
 * the output is a leak, the idea Rebuff uses), and overlap of word n-grams with the system prompt's text
 * (a paraphrase-free copy of a run of n words is a leak; a shorter coincidence is not).
 */
export interface LeakOptions {
  readonly systemPrompt?: string;
  readonly canaries?: readonly string[];
  /** Words in a shingle; a copied run of at least this many words is a leak. Default 8. */
  readonly ngram?: number;
  /** `block` stops the stream, `redact` replaces the leaked run. Default `block`. */
  readonly action?: 'block' | 'redact';
}

/** A fresh canary to put in a system prompt, e.g. "zt4ai-canary-3f9a...". */
export function makeCanary(): string {
  return `zt4ai-canary-${randomBytes(8).toString('hex')}`;
}

const WORD = /[\p{L}\p{N}]+/gu;

interface Token {
  readonly word: string;
  readonly start: number;
  readonly end: number;
}

function tokens(text: string): Token[] {
  return [...text.matchAll(WORD)].map((m) => ({ word: m[0].toLowerCase(), start: m.index, end: m.index + m[0].length }));
}

/** Precomputed canaries and system-prompt shingles. */
export class LeakDetector {
  readonly action: 'block' | 'redact';
  readonly ngram: number;
  private readonly canaries: readonly string[];
  private readonly shingles: ReadonlySet<string>;

  constructor(options: LeakOptions) {
    this.ngram = options.ngram ?? 8;
    if (!Number.isInteger(this.ngram) || this.ngram < 3) throw new GuardianError('ERR_GUARD_CONFIG', 'ngram must be an integer >= 3');
    this.action = options.action ?? 'block';
    this.canaries = (options.canaries ?? []).filter((c) => c.length > 0).map((c) => c.toLowerCase());
    const words = tokens(options.systemPrompt ?? '').map((t) => t.word);
    const set = new Set<string>();
    for (let i = 0; i + this.ngram <= words.length; i++) set.add(words.slice(i, i + this.ngram).join(' '));
    this.shingles = set;
  }

  /** The longest canary: the stream's hold-back must be at least this long. */
  get longestCanary(): number {
    return Math.max(0, ...this.canaries.map((c) => c.length));
  }

  /** CANARY and SYSTEM_PROMPT spans in `text`. */
  find(text: string): Span[] {
    const out: Span[] = [];
    if (this.canaries.length > 0) {
      const lower = text.toLowerCase();
      for (const c of this.canaries) {
        for (let i = lower.indexOf(c); i >= 0; i = lower.indexOf(c, i + 1)) out.push({ start: i, end: i + c.length, type: 'CANARY', detector: 'canary' });
      }
    }
    if (this.shingles.size === 0) return out;
    const toks = tokens(text);
    let runStart = -1;
    let runEnd = -1;
    for (let i = 0; i + this.ngram <= toks.length; i++) {
      const key = toks.slice(i, i + this.ngram).map((t) => t.word).join(' ');
      if (!this.shingles.has(key)) continue;
      const s = toks[i]!.start;
      const e = toks[i + this.ngram - 1]!.end;
      if (runStart >= 0 && s <= runEnd) runEnd = Math.max(runEnd, e);
      else {
        if (runStart >= 0) out.push({ start: runStart, end: runEnd, type: 'SYSTEM_PROMPT', detector: 'ngram-overlap' });
        runStart = s;
        runEnd = e;
      }
    }
    if (runStart >= 0) out.push({ start: runStart, end: runEnd, type: 'SYSTEM_PROMPT', detector: 'ngram-overlap' });
    return out;
  }
}
