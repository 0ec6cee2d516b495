import type { LoadedModel } from './model.js';

/** The classifier's view of one text. */
export interface ClassifierScore {
  /** Calibrated probability of an attack, in [0, 1]. */
  readonly probability: number;
  readonly logit: number;
  /** True when a window scored higher than the whole text (an instruction buried in data). */
  readonly fromWindow: boolean;
}

/** Whether the text is the user's own message or data the request carries (documents, tool output). */
export type TextKind = 'user' | 'document';

/** Raw logit of `text` (normalised) under `model`; `extras` are rule-hit tokens (see ruleTokens). */
export function logit(model: LoadedModel, text: string, extras: readonly string[] = []): number {
  return model.file.bias + model.featurizer.dotInt8(text, model.table, extras) * model.file.scale;
}

/**
 * Scores the whole text and, for longer texts, windows of whole sentences: the answer is the larger of
 * the two, the window's lowered by the model's user offset when the text is the user's own message.
 */
export function classify(model: LoadedModel, text: string, kind: TextKind, extras: readonly string[] = []): ClassifierScore {
  const whole = logit(model, text, extras);
  let best = whole;
  let fromWindow = false;
  const { windowChars, userWindowOffset } = model.file;
  if (text.length > windowChars * 1.5) {
    const offset = kind === 'user' ? userWindowOffset : 0;
    for (const w of sentenceWindows(text, windowChars)) {
      const z = logit(model, w) - offset;
      if (z > best) {
        best = z;
        fromWindow = true;
      }
    }
  }
  return { probability: calibrate(model, best), logit: best, fromWindow };
}

/** The extra tokens a set of rule hits contributes to the whole-text features. */
export function ruleTokens(hits: ReadonlyArray<{ readonly id: string; readonly family: string }>): string[] {
  const tokens = new Set<string>();
  for (const h of hits) {
    tokens.add(`rule:${h.id}`);
    tokens.add(`family:${h.family}`);
  }
  return [...tokens];
}

/** Platt scaling fitted on the dev split. */
export function calibrate(model: LoadedModel, z: number): number {
  return 1 / (1 + Math.exp(-(model.file.platt.a * z + model.file.platt.b)));
}

const SENTENCE_END = /(?<=[.!?])\s+|\n+/;

/** Consecutive sentences grouped into windows of about `chars` characters. */
export function sentenceWindows(text: string, chars: number): string[] {
  const out: string[] = [];
  let cur = '';
  for (const s of text.split(SENTENCE_END)) {
    if (s.length === 0) continue;
    if (cur.length > 0 && cur.length + s.length > chars) {
      out.push(cur);
      cur = '';
    }
    cur = cur.length > 0 ? `${cur} ${s}` : s;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
