import { RunnerError } from '../../errors.js';
import { NGRAM_FORMAT, type NgramFile } from './train.js';
import { BOS, EOS, tokenize } from './tokens.js';

type Table = ReadonlyArray<readonly [number, number]>;

/** Common words that make poor sentence openers when the model picks up a topic from the prompt. */
const STOP_WORDS = new Set(['the', 'a', 'an', 'is', 'are', 'what', 'who', 'how', 'why', 'of', 'to', 'and', 'it', 'in', 'on', 'me', 'tell', 'about', 'does', 'do', 'you', 'your', 'please', 'can', 'i']);

/** A deterministic PRNG (mulberry32): the same seed gives the same answer on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A loaded trigram model with bigram back-off. */
export class NgramModel {
  readonly vocab: readonly string[];
  readonly #next: ReadonlyMap<string, Table>;
  readonly #ids: ReadonlyMap<string, number>;

  private constructor(file: NgramFile) {
    this.vocab = file.vocab;
    this.#next = new Map(Object.entries(file.next));
    this.#ids = new Map(file.vocab.map((w, i) => [w, i]));
  }

  /** Parses and checks a model file (every id in range, counts positive); a bad file is ERR_RUNNER_MODEL_LOAD. */
  static parse(bytes: Uint8Array): NgramModel {
    let doc: unknown;
    try {
      doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
    } catch (cause) {
      throw new RunnerError('ERR_RUNNER_MODEL_LOAD', 'the n-gram model file is not JSON', { cause });
    }
    const f = doc as Partial<NgramFile>;
    if (f?.format !== NGRAM_FORMAT || f.order !== 3 || !Array.isArray(f.vocab) || f.vocab[0] !== BOS || f.vocab[1] !== EOS || typeof f.next !== 'object' || f.next === null) {
      throw new RunnerError('ERR_RUNNER_MODEL_LOAD', `the model file is not ${NGRAM_FORMAT}`);
    }
    const n = f.vocab.length;
    const inRange = (x: unknown): boolean => Number.isInteger(x) && (x as number) >= 0 && (x as number) < n;
    for (const [key, table] of Object.entries(f.next)) {
      const ok = key.split(' ').every((p) => inRange(Number(p))) && Array.isArray(table) && table.every((e) => Array.isArray(e) && inRange(e[0]) && Number.isInteger(e[1]) && e[1] > 0);
      if (!ok) throw new RunnerError('ERR_RUNNER_MODEL_LOAD', 'the model file has a malformed context table');
    }
    if (!Array.isArray(f.next['0 0'])) throw new RunnerError('ERR_RUNNER_MODEL_LOAD', 'the model file has no sentence-start table');
    return new NgramModel(f as NgramFile);
  }

  /**
   * Token ids of an answer: up to `sentences` sentences, at most `maxTokens` tokens. The first sentence
   * opens with a topic word of the prompt the model knows, when there is one.
   */
  *generate(prompt: string, o: { maxTokens: number; temperature: number; random: () => number; sentences?: number }): Generator<string> {
    let [a, b] = [0, 0];
    let produced = 0;
    let done = 0;
    for (const id of this.#opener(prompt).slice(0, o.maxTokens)) {
      yield this.vocab[id]!;
      produced++;
      [a, b] = [b, id];
    }
    while (produced < o.maxTokens) {
      const id = this.#sample(a, b, o.temperature, o.random);
      if (id === 1) {
        done++;
        if (done >= (o.sentences ?? 2)) return;
        [a, b] = [0, 0];
        continue;
      }
      yield this.vocab[id]!;
      produced++;
      [a, b] = [b, id];
    }
  }

  /** Tokens a text costs in this model's vocabulary. */
  count(text: string): number {
    return tokenize(text).length;
  }

  /**
   * The first tokens of the answer: the prompt's first known topic word, preceded by the sentence opener
   * that led to it in the training text ("The" + "attestation"), when there is one.
   */
  #opener(prompt: string): number[] {
    const starts = this.#next.get('0 0')!;
    for (const w of tokenize(prompt)) {
      const id = this.#ids.get(w);
      if (id === undefined || id <= 1 || STOP_WORDS.has(w) || !this.#next.has(String(id))) continue;
      if (starts.some(([s]) => s === id)) return [id];
      const lead = starts.find(([s]) => this.#next.get(`0 ${s}`)?.some(([n]) => n === id));
      return lead ? [lead[0], id] : [id];
    }
    return [];
  }

  #sample(a: number, b: number, temperature: number, random: () => number): number {
    const table = this.#next.get(`${a} ${b}`) ?? this.#next.get(String(b)) ?? this.#next.get('0 0')!;
    if (temperature <= 0) return table.reduce((best, e) => (e[1] > best[1] ? e : best))[0];
    const weights = table.map(([, c]) => c ** (1 / temperature));
    let r = random() * weights.reduce((s, w) => s + w, 0);
    for (const [i, e] of table.entries()) {
      r -= weights[i]!;
      if (r <= 0) return e[0];
    }
    return table[table.length - 1]![0];
  }
}
