/**
 * "Unsupported sentence" heuristic, off by default: a sentence of the answer is flagged when too few of
 * its content words occur in the supplied source documents. It is lexical overlap, not entailment: a
 * faithful paraphrase can be flagged and a fabricated sentence made of the sources' words passes.
 */
export interface UnsupportedOptions {
  /** Fraction of a sentence's content words that must appear in the sources. Default 0.5. */
  readonly minSupport?: number;
  /** Sentences with fewer content words are not judged. Default 4. */
  readonly minContentWords?: number;
}

export interface UnsupportedSentence {
  readonly start: number;
  readonly end: number;
  /** Fraction of its content words found in the sources. */
  readonly support: number;
}

const STOP = new Set('a an the and or but if then so of to in on at by for with from into over under about as is are was were be been being it its this that these those there here which who whom whose what when where why how not no yes do does did have has had will would can could should may might must shall i you he she we they me him her us them my your his our their also just very more most less than such only any all some each other'.split(' '));
const WORD = /[\p{L}\p{N}]+/gu;
const SENTENCE = /[^.!?\n]+[.!?]*/g;

function stem(w: string): string {
  return w.replace(/(?:ing|ed|es|s)$/, '');
}

function contentWords(text: string): string[] {
  return [...text.toLowerCase().matchAll(WORD)].map((m) => m[0]).filter((w) => w.length > 2 && !STOP.has(w)).map(stem);
}

/** Sentences of `answer` whose content words are mostly absent from `sources`. */
export function unsupportedSentences(answer: string, sources: readonly string[], options: UnsupportedOptions = {}): UnsupportedSentence[] {
  const minSupport = options.minSupport ?? 0.5;
  const minWords = options.minContentWords ?? 4;
  const vocab = new Set(sources.flatMap(contentWords));
  const out: UnsupportedSentence[] = [];
  for (const m of answer.matchAll(SENTENCE)) {
    const words = contentWords(m[0]);
    if (words.length < minWords) continue;
    const support = words.filter((w) => vocab.has(w)).length / words.length;
    if (support < minSupport) out.push({ start: m.index, end: m.index + m[0].trimEnd().length, support });
  }
  return out;
}
