import { randomInt } from 'node:crypto';
import type { ChatMessage, GenerateParams, InferenceBackend } from '../backend.js';
import { NgramModel, prng } from './model.js';
import { render } from './tokens.js';

/**
 * The demo backend: a word-level trigram model loaded from the unsealed files. It reads the last user
 * message for a topic and ignores the system prompt (it cannot follow instructions); with a seed, the
 * same request gives the same answer.
 */
export class NgramBackend implements InferenceBackend {
  readonly kind = 'ngram';
  readonly #model: NgramModel;

  constructor(model: NgramModel) {
    this.#model = model;
  }

  static load(bytes: Uint8Array): NgramBackend {
    return new NgramBackend(NgramModel.parse(bytes));
  }

  async *generate(messages: readonly ChatMessage[], params: GenerateParams): AsyncIterable<string> {
    const prompt = [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
    const random = prng(params.seed ?? randomInt(2 ** 31));
    let previous: string | null = null;
    let text = '';
    for (const token of this.#model.generate(prompt, { maxTokens: params.maxTokens, temperature: params.temperature ?? 0.7, random })) {
      if (params.signal?.aborted) return;
      const piece = render(token, previous);
      previous = token;
      text += piece;
      const stop = params.stop?.find((s) => s.length > 0 && text.includes(s));
      if (stop !== undefined) {
        // OpenAI's stop: the answer ends before the stop sequence, which is not returned.
        const keep = piece.length - (text.length - text.indexOf(stop));
        if (keep > 0) yield piece.slice(0, keep);
        return;
      }
      yield piece;
      // Hand the event loop back between tokens: other requests and the client's disconnect get a turn.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  countTokens(text: string): number {
    return this.#model.count(text);
  }

  async close(): Promise<void> {}
}
