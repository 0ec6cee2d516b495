import { type GuardDecision, type GuardEvent, type OutputFindings, OutputGuardian, type OutputGuardianOptions, type SessionGuard } from '../guardians/index.js';
import type { ChatMessage, GenerateParams, InferenceBackend } from '../backends/backend.js';
import type { LimitsConfig } from '../config/types.js';
import type { RunnerMetrics } from '../metrics.js';
import type { ServedModel } from '../startup/sequence.js';
import type { AuditSink } from './audit.js';

/** Everything a request needs once the runner serves. */
export interface Serving {
  readonly backend: InferenceBackend;
  readonly model: ServedModel;
  /** Null when the input guardian is off. */
  readonly guard: SessionGuard | null;
  /** Null when the output guardian is off. */
  readonly output: OutputGuardianOptions | null;
  /** The runner's system prompt with its canary: always the first message the backend sees. */
  readonly systemMessage: string;
  /** The canary inside systemMessage (tests and operators' leak drills). */
  readonly canary: string;
  readonly audit: AuditSink;
  readonly metrics: RunnerMetrics;
  readonly limits: LimitsConfig;
}

/** OpenAI's finish_reason values the runner gives (content_filter: a guardian stopped the answer). */
export type FinishReason = 'stop' | 'length' | 'content_filter';

/** Who sends a request: the session guard ends conversations and API keys on a block. */
export interface Caller {
  readonly apiKeyId?: string;
  readonly conversationId?: string;
}

/**
 * The input hook: the last user message is scanned as the user's, every other message the client sent
 * (earlier turns, tool output, its own system text) as data. A blocked request never reaches the backend.
 */
export function admit(s: Serving, messages: readonly ChatMessage[], caller: Caller): GuardDecision | null {
  if (!s.guard) return null;
  const lastUser = messages.findLastIndex((m) => m.role === 'user');
  const user = lastUser >= 0 ? messages[lastUser]!.content : '';
  const documents = messages.flatMap((m, i) => (i === lastUser ? [] : [{ id: `messages[${i}]`, text: m.content }]));
  return s.guard.check({ user, ...(documents.length > 0 ? { documents } : {}), ...caller });
}

/** Metrics and the audit trail for one input decision (layers and rule ids, never the text). */
export function recordInput(metrics: RunnerMetrics, audit: AuditSink, event: GuardEvent): void {
  const layers = event.layers.length > 0 ? event.layers : ['none'];
  for (const layer of layers) metrics.guardDecisions.inc({ guard: 'input', layer, verdict: event.type });
  audit.write({ kind: 'guardian', guard: 'input', ...event, at: new Date(event.at).toISOString() });
}

/**
 * One generation through the output hook: the backend's pieces pass the output guardian (redaction of PII
 * and secrets across piece boundaries; a system-prompt leak stops the stream). Iterate `pieces()`, then
 * read `finishReason` and `completionTokens`.
 */
export class GuardedGeneration {
  finishReason: FinishReason = 'stop';
  completionTokens = 0;
  readonly #s: Serving;
  readonly #guardian: OutputGuardian | null;
  readonly #requestId: string;

  constructor(s: Serving, requestId: string) {
    this.#s = s;
    this.#guardian = s.output ? new OutputGuardian(s.output) : null;
    this.#requestId = requestId;
  }

  async *pieces(messages: readonly ChatMessage[], params: GenerateParams): AsyncGenerator<string> {
    const all: ChatMessage[] = [{ role: 'system', content: this.#s.systemMessage }, ...messages];
    for await (const piece of this.#s.backend.generate(all, params)) {
      this.completionTokens++;
      const out = this.#guardian ? this.#guardian.push(piece) : piece;
      if (out) yield out;
      if (this.#guardian?.findings.blocked) {
        // Leaving the loop ends the backend's iterator: the model stops generating.
        this.finishReason = 'content_filter';
        this.#record(this.#guardian.findings);
        return;
      }
    }
    if (this.completionTokens >= params.maxTokens) this.finishReason = 'length';
    if (this.#guardian) {
      const rest = this.#guardian.flush();
      // A leak found only in the held-back tail ends the answer the same way.
      if (this.#guardian.findings.blocked) this.finishReason = 'content_filter';
      if (rest) yield rest;
      this.#record(this.#guardian.findings);
    }
  }

  #record(f: OutputFindings): void {
    const redacted = Object.entries(f.redacted).filter(([type]) => type !== 'SYSTEM_PROMPT' || !f.blocked);
    for (const [type, n] of redacted) this.#s.metrics.guardDecisions.inc({ guard: 'output', layer: type, verdict: 'redacted' }, n ?? 0);
    if (f.blocked) this.#s.metrics.guardDecisions.inc({ guard: 'output', layer: 'leak', verdict: 'blocked' });
    if (redacted.length > 0 || f.blocked) this.#s.audit.write({ kind: 'guardian', guard: 'output', requestId: this.#requestId, blocked: f.blocked, redacted: Object.fromEntries(redacted) });
  }
}
