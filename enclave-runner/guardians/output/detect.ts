import { findAddressSpans } from './addresses.js';
import { findNameSpans } from './names.js';
import { findPatternSpans } from './patterns.js';
import { DEFAULT_ENTROPY, type EntropyOptions, findSecretSpans } from './secrets.js';
import { type EntityType, type Span, applyRedactions, resolveOverlaps } from './spans.js';

/** What the redactor looks for. Everything is on by default except what is listed in `disable`. */
export interface DetectOptions {
  /** Entity types not to redact (e.g. `['PERSON', 'LOCATION']` where names are expected in answers). */
  readonly disable?: readonly EntityType[];
  readonly entropy?: EntropyOptions;
}

/** All PII and secret spans in `text`, overlaps resolved. */
export function findSpans(text: string, options: DetectOptions = {}): Span[] {
  const disabled = new Set(options.disable ?? []);
  const wantNames = !disabled.has('PERSON') || !disabled.has('LOCATION');
  const spans = [
    ...findSecretSpans(text, options.entropy ?? DEFAULT_ENTROPY),
    ...findPatternSpans(text),
    ...(disabled.has('LOCATION') ? [] : findAddressSpans(text)),
    ...(wantNames ? findNameSpans(text) : []),
  ].filter((s) => !disabled.has(s.type));
  return resolveOverlaps(spans);
}

/** The redacted text and what was redacted. A text without findings is returned unchanged (same string). */
export interface Redaction {
  readonly text: string;
  readonly spans: readonly Span[];
}

/** Redacts `text` in one go (the streaming guardian does the same over a hold-back window). */
export function redact(text: string, options: DetectOptions = {}): Redaction {
  const spans = findSpans(text, options);
  return { text: applyRedactions(text, spans), spans };
}
