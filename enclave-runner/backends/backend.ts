/** The inference backend interface: small on purpose, so a third backend is a single file. */

/** A chat message as the backend sees it: text only (the API flattens content parts). */
export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant' | 'tool';
  readonly content: string;
}

export interface GenerateParams {
  /** Upper bound of generated tokens (the API has already clamped it). */
  readonly maxTokens: number;
  readonly temperature?: number;
  /** Same seed, same messages: same answer (where the backend can promise it). */
  readonly seed?: number;
  readonly stop?: readonly string[];
  /** Aborted when the client goes away or a guardian stops the stream. */
  readonly signal?: AbortSignal;
}

/**
 * A loaded model. `generate` yields text pieces, one per token (empty for a token that completes no
 * character yet), until the model stops or `maxTokens`
 * pieces were yielded (the API reports finish_reason "length" then, else "stop").
 */
export interface InferenceBackend {
  readonly kind: string;
  /** What /status shows about the loaded model (never prompts or answers). */
  readonly detail?: Readonly<Record<string, unknown>>;
  generate(messages: readonly ChatMessage[], params: GenerateParams): AsyncIterable<string>;
  /** Tokens a text costs (prompt accounting); an estimate where the backend cannot count exactly. */
  countTokens(text: string): number;
  close(): Promise<void>;
}
