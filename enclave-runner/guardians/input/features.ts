/**
 * Hashed n-gram features shared by the training script and the runtime classifier, so the two can never
 * disagree: character 3..5-grams (robust to spelling, inflection and unseen words) and word 1..2-grams
 * (intent phrases such as "ignore previous"), each group weighted 1 + log(tf) and L2-normalised.
 */
export interface SparseVector {
  readonly idx: Int32Array;
  readonly val: Float32Array;
}

/** Feature-space parameters; they are stored with the weights and checked when the model loads. */
export interface FeatureSpec {
  readonly bits: number;
  readonly charMin: number;
  readonly charMax: number;
  readonly wordWeight: number;
  /** Value of each extra token (the ids of the rules that fired): the model learns what each is worth. */
  readonly extraWeight: number;
}

export const DEFAULT_FEATURE_SPEC: FeatureSpec = { bits: 16, charMin: 3, charMax: 5, wordWeight: 1, extraWeight: 1 };

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const WORD_SALT = 0x5bd1e995;
const BIGRAM_SALT = 0x27d4eb2d;

/** Reuses one scratch table per feature space: featurising allocates only the output. */
export class Featurizer {
  readonly spec: FeatureSpec;
  private readonly counts: Float32Array;
  private readonly touched: Int32Array;
  private readonly mask: number;

  constructor(spec: FeatureSpec = DEFAULT_FEATURE_SPEC) {
    this.spec = spec;
    this.counts = new Float32Array(1 << spec.bits);
    this.touched = new Int32Array(1 << spec.bits);
    this.mask = (1 << spec.bits) - 1;
  }

  /** Features of `text`, which must already be normalised (lower case, whitespace collapsed), plus `extras` tokens. */
  featurize(text: string, extras: readonly string[] = []): SparseVector {
    const charPart = this.collect((emit) => charGrams(text, this.spec, emit));
    const wordPart = this.collect((emit) => wordGrams(text, emit));
    const merged = merge(charPart, wordPart, this.spec.wordWeight);
    if (extras.length === 0) return merged;
    const idx = new Int32Array(merged.idx.length + extras.length);
    const val = new Float32Array(merged.idx.length + extras.length);
    idx.set(merged.idx);
    val.set(merged.val);
    extras.forEach((token, i) => {
      idx[merged.idx.length + i] = hashToken(token) & this.mask;
      val[merged.idx.length + i] = this.spec.extraWeight;
    });
    return { idx, val };
  }

  /**
   * The dot product of `text`'s features with an Int8 weight table, computed straight from the scratch
   * counts: the same value as featurize() followed by a dot product, without allocating (the hot path).
   */
  dotInt8(text: string, table: Int8Array, extras: readonly string[] = []): number {
    const { counts, touched, mask } = this;
    let n = 0;
    const s = ` ${text} `;
    const len = s.length;
    const { charMin, charMax } = this.spec;
    for (let i = 0; i + charMin <= len; i++) {
      let h = FNV_OFFSET;
      for (let k = 0; k < charMax && i + k < len; k++) {
        h = Math.imul(h ^ s.charCodeAt(i + k), FNV_PRIME);
        if (k + 1 >= charMin) {
          const b = (Math.imul(h ^ (k + 1), FNV_PRIME) >>> 0) & mask;
          if (counts[b] === 0) touched[n++] = b;
          counts[b]! += 1;
        }
      }
    }
    const charPart = this.drain(n, table);
    n = 0;
    wordGrams(text, (h) => {
      const b = h & mask;
      if (counts[b] === 0) touched[n++] = b;
      counts[b]! += 1;
    });
    const wordPart = this.drain(n, table);
    let sum = charPart + wordPart * this.spec.wordWeight;
    for (const token of extras) sum += table[hashToken(token) & mask]! * this.spec.extraWeight;
    return sum;
  }

  /** Sum of weight * (1 + log tf) / norm over the touched buckets, resetting them. */
  private drain(n: number, table: Int8Array): number {
    const { counts, touched } = this;
    let dot = 0;
    let norm = 0;
    for (let i = 0; i < n; i++) {
      const b = touched[i]!;
      const c = counts[b]!;
      const v = c === 1 ? 1 : 1 + Math.log(c);
      counts[b] = 0;
      dot += table[b]! * v;
      norm += v * v;
    }
    return norm > 0 ? dot / Math.sqrt(norm) : 0;
  }

  private collect(fill: (emit: (h: number) => void) => void): SparseVector {
    const { counts, touched, mask } = this;
    let n = 0;
    fill((h) => {
      const b = h & mask;
      if (counts[b] === 0) touched[n++] = b;
      counts[b]! += 1;
    });
    const idx = new Int32Array(n);
    const val = new Float32Array(n);
    let norm = 0;
    for (let i = 0; i < n; i++) {
      const b = touched[i]!;
      const v = 1 + Math.log(counts[b]!);
      counts[b] = 0;
      idx[i] = b;
      val[i] = v;
      norm += v * v;
    }
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let i = 0; i < n; i++) val[i]! *= scale;
    return { idx, val };
  }
}

const EXTRA_SALT = 0x3c6ef372;

function hashToken(token: string): number {
  let h = FNV_OFFSET ^ EXTRA_SALT;
  for (let i = 0; i < token.length; i++) h = Math.imul(h ^ token.charCodeAt(i), FNV_PRIME);
  return h >>> 0;
}

function charGrams(text: string, spec: FeatureSpec, emit: (h: number) => void): void {
  // Pad with spaces so word starts and ends are n-grams of their own.
  const s = ` ${text} `;
  const len = s.length;
  for (let i = 0; i + spec.charMin <= len; i++) {
    let h = FNV_OFFSET;
    for (let k = 0; k < spec.charMax && i + k < len; k++) {
      h = Math.imul(h ^ s.charCodeAt(i + k), FNV_PRIME);
      if (k + 1 >= spec.charMin) emit(Math.imul(h ^ (k + 1), FNV_PRIME) >>> 0);
    }
  }
}

function isWordChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c >= 0xc0 || c === 0x27;
}

function wordGrams(text: string, emit: (h: number) => void): void {
  let prev = 0;
  let h = FNV_OFFSET;
  let inWord = false;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 0x20;
    if (isWordChar(c)) {
      h = Math.imul(h ^ c, FNV_PRIME);
      inWord = true;
      continue;
    }
    if (inWord) {
      const w = Math.imul(h ^ WORD_SALT, FNV_PRIME) >>> 0;
      emit(w);
      if (prev !== 0) emit(Math.imul(Math.imul(prev, 31) ^ w ^ BIGRAM_SALT, FNV_PRIME) >>> 0);
      prev = w;
      h = FNV_OFFSET;
      inWord = false;
    }
    // Sentence punctuation breaks bigrams: "... above. Ignore" is not the phrase "above ignore".
    if (c === 0x2e || c === 0x21 || c === 0x3f || c === 0x0a) prev = 0;
  }
}

function merge(a: SparseVector, b: SparseVector, wordWeight: number): SparseVector {
  const idx = new Int32Array(a.idx.length + b.idx.length);
  const val = new Float32Array(a.idx.length + b.idx.length);
  idx.set(a.idx);
  val.set(a.val);
  idx.set(b.idx, a.idx.length);
  for (let i = 0; i < b.idx.length; i++) val[a.idx.length + i] = b.val[i]! * wordWeight;
  return { idx, val };
}
