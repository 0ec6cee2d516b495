import { GuardianError } from '../errors.js';
import { type DetectOptions, findSpans } from './detect.js';
import { LeakDetector, type LeakOptions } from './leak.js';
import { PEM_BEGIN } from './secrets.js';
import { type EntityType, type Span, placeholder, resolveOverlaps } from './spans.js';
import { type UnsupportedOptions, type UnsupportedSentence, unsupportedSentences } from './unsupported.js';

export interface OutputGuardianOptions {
  /** Characters held back at the end of the stream so an entity split across chunks is seen whole. Default 128. */
  readonly holdBack?: number;
  /** Text is released in batches of at least this many characters (fewer scans per token). Default 32. */
  readonly minRelease?: number;
  /** A run without whitespace is held until it ends, up to this length; beyond it, it is scanned and released. Default 8192. */
  readonly maxHold?: number;
  readonly detect?: DetectOptions;
  /** System-prompt leak detection; off unless a system prompt or canaries are given. */
  readonly leak?: LeakOptions;
  /** Source documents for the unsupported-sentence heuristic; off unless given. */
  readonly sources?: readonly string[];
  readonly unsupported?: UnsupportedOptions;
}

/** What the guardian did to the stream, for metrics and audit (types and positions, never values). */
export interface OutputFindings {
  readonly redacted: Readonly<Partial<Record<EntityType, number>>>;
  /** A system-prompt leak stopped the stream. */
  readonly blocked: boolean;
  /** Sentences of the full answer flagged by the unsupported-sentence heuristic (flush only). */
  readonly unsupported: readonly UnsupportedSentence[];
}

/** Appended once when a leak stops the stream. */
export const LEAK_NOTICE = '[zt4ai: the rest of this response was withheld: it repeated the system prompt]';

/**
 * The output guardian as a stateful stream transformer: `push(chunk)` returns the text that is safe to
 * emit now, `flush()` the rest at the end. Emitted text never contains an entity the detectors find in
 * the whole answer, however the answer is split into chunks, as long as the entity fits in `holdBack`.
 */
export class OutputGuardian {
  private pending = '';
  /** The last released raw text: left context for cues such as "my name is". Never emitted again. */
  private context = '';
  private done = false;
  private blockedFlag = false;
  private readonly counts: Partial<Record<EntityType, number>> = {};
  private readonly holdBack: number;
  private readonly minRelease: number;
  private readonly maxHold: number;
  private readonly leak: LeakDetector | null;
  private readonly full: string[] | null;

  constructor(private readonly options: OutputGuardianOptions = {}) {
    this.leak = options.leak && (options.leak.systemPrompt || (options.leak.canaries?.length ?? 0) > 0) ? new LeakDetector(options.leak) : null;
    this.holdBack = Math.max(options.holdBack ?? 128, (this.leak?.longestCanary ?? 0) + 1);
    this.minRelease = options.minRelease ?? 32;
    this.maxHold = options.maxHold ?? 8192;
    if (![this.holdBack, this.minRelease, this.maxHold].every((x) => Number.isInteger(x) && x >= 0) || this.maxHold < this.holdBack) {
      throw new GuardianError('ERR_GUARD_CONFIG', 'holdBack, minRelease and maxHold must be non-negative integers with maxHold >= holdBack');
    }
    this.full = options.sources ? [] : null;
  }

  /** Takes the next chunk of model output; returns what may be sent to the client now. */
  push(chunk: string): string {
    if (this.done) throw new GuardianError('ERR_GUARD_STREAM_CLOSED');
    if (this.blockedFlag) return '';
    this.pending += chunk;
    if (this.pending.length < this.holdBack + this.minRelease) return '';
    return this.release(false);
  }

  /** Ends the stream: returns everything still held, redacted. */
  flush(): string {
    if (this.done) throw new GuardianError('ERR_GUARD_STREAM_CLOSED');
    const out = this.blockedFlag ? '' : this.release(true);
    this.done = true;
    return out;
  }

  get findings(): OutputFindings {
    const unsupported = this.done && this.full !== null ? unsupportedSentences(this.full.join(''), this.options.sources ?? [], this.options.unsupported) : [];
    return { redacted: { ...this.counts }, blocked: this.blockedFlag, unsupported };
  }

  private release(final: boolean): string {
    const ctx = this.context;
    const window = ctx + this.pending;
    let cut = final ? this.pending.length : this.safeCut(window, ctx.length);
    // Nothing can be released yet (a token still growing): do not pay for a scan.
    if (cut <= 0 && !final) return '';
    const spans = this.scan(window);
    if (this.blockedFlag) return LEAK_NOTICE;
    // Never cut through an entity: keep it whole in the held text.
    for (const s of spans) if (s.start < ctx.length + cut && s.end > ctx.length + cut && s.start >= ctx.length) cut = s.start - ctx.length;
    if (cut <= 0) return '';
    const out = this.emit(window, ctx.length, cut, spans);
    const released = this.pending.slice(0, cut);
    this.full?.push(released);
    this.context = (ctx + released).slice(-this.holdBack);
    this.pending = this.pending.slice(cut);
    return out;
  }

  /** Where the held text may be cut: `holdBack` from the end, back to whitespace, before an open PEM block. */
  private safeCut(window: string, offset: number): number {
    const text = this.pending;
    let cut = text.length - this.holdBack;
    if (cut <= 0) return 0;
    const ws = lastWhitespace(text, cut);
    if (ws > 0) cut = ws;
    else if (text.length < this.maxHold) return 0;
    PEM_BEGIN.lastIndex = 0;
    for (const m of window.matchAll(PEM_BEGIN)) {
      if (m.index >= offset && !window.includes('-----END', m.index) && text.length < this.maxHold) cut = Math.min(cut, m.index - offset);
    }
    return Math.max(0, cut);
  }

  private scan(window: string): Span[] {
    const spans = findSpans(window, this.options.detect);
    if (this.leak === null) return spans;
    const leaks = this.leak.find(window);
    if (leaks.length > 0 && this.leak.action === 'block' && leaks.some((l) => l.end > this.context.length)) {
      this.blockedFlag = true;
      this.count('SYSTEM_PROMPT');
      return [];
    }
    return resolveOverlaps([...leaks, ...spans]);
  }

  /** Redacts pending[0, cut); a span begun in the already-released context has its remainder replaced. */
  private emit(window: string, offset: number, cut: number, spans: readonly Span[]): string {
    let out = '';
    let at = offset;
    const end = offset + cut;
    for (const s of spans) {
      if (s.end <= offset || s.start >= end) continue;
      const from = Math.max(s.start, offset);
      out += window.slice(at, from) + placeholder(s.type);
      this.count(s.type);
      at = Math.min(s.end, end);
    }
    return out + window.slice(at, end);
  }

  private count(type: EntityType): void {
    this.counts[type] = (this.counts[type] ?? 0) + 1;
  }
}

function lastWhitespace(text: string, before: number): number {
  for (let i = before; i > 0; i--) {
    const c = text.charCodeAt(i - 1);
    if (c === 32 || c === 10 || c === 9 || c === 13) return i;
  }
  return 0;
}
