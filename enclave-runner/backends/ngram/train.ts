import { createHash } from 'node:crypto';
import { BOS, EOS, sentences } from './tokens.js';

export const NGRAM_FORMAT = 'zt4ai-ngram/1';

/**
 * The model file: a vocabulary and, per context (one or two previous token ids, joined by a space), the
 * tokens that followed it with their counts. Small, readable JSON: the demo model is about 40 KB.
 */
export interface NgramFile {
  readonly format: typeof NGRAM_FORMAT;
  readonly order: 3;
  readonly vocab: readonly string[];
  readonly next: Readonly<Record<string, ReadonlyArray<readonly [number, number]>>>;
  /** SHA-256 of the training text, for the model card. */
  readonly corpusSha256: string;
}

/** Counts trigrams and bigrams of a text, sentence by sentence, with two start tokens and one end token. */
export function trainNgram(text: string): NgramFile {
  const vocab: string[] = [BOS, EOS];
  const ids = new Map<string, number>(vocab.map((w, i) => [w, i]));
  const idOf = (w: string): number => {
    let id = ids.get(w);
    if (id === undefined) {
      id = vocab.length;
      vocab.push(w);
      ids.set(w, id);
    }
    return id;
  };
  const counts = new Map<string, Map<number, number>>();
  const add = (context: string, next: number): void => {
    const m = counts.get(context) ?? new Map<number, number>();
    m.set(next, (m.get(next) ?? 0) + 1);
    counts.set(context, m);
  };
  for (const s of sentences(text)) {
    const seq = [0, 0, ...s.map(idOf), 1];
    for (let i = 2; i < seq.length; i++) {
      add(`${seq[i - 2]} ${seq[i - 1]}`, seq[i]!);
      add(`${seq[i - 1]}`, seq[i]!);
    }
  }
  const next: Record<string, Array<[number, number]>> = {};
  for (const key of [...counts.keys()].sort()) next[key] = [...counts.get(key)!.entries()].sort((a, b) => a[0] - b[0]);
  return { format: NGRAM_FORMAT, order: 3, vocab, next, corpusSha256: createHash('sha256').update(text).digest('hex') };
}
