import { request } from 'undici';
import { RunnerError } from '../../errors.js';
import type { ChatMessage, GenerateParams, InferenceBackend } from '../backend.js';
import { sseData } from '../sse.js';

/** An upstream the runner started (backend.command): closing the backend stops it. */
export interface StartedUpstream {
  readonly pid: number;
  stop(): Promise<void>;
}

export interface OpenAiProxyOptions {
  /** The upstream's base URL on loopback, e.g. http://127.0.0.1:8081 (llama.cpp's llama-server, vLLM, Ollama). */
  readonly url: string;
  /** The upstream's model name; null: the first of its /v1/models. */
  readonly model: string | null;
  readonly timeoutMs: number;
}

/**
 * A local OpenAI-compatible server behind the runner: requests are forwarded after the input guardian,
 * answers streamed back through the output guardian. The upstream runs inside the same VM (loopback only).
 */
export class OpenAiProxyBackend implements InferenceBackend {
  readonly kind = 'openai-upstream';
  readonly #o: OpenAiProxyOptions;
  readonly #model: string;
  readonly #started: StartedUpstream | null;

  private constructor(o: OpenAiProxyOptions, model: string, started: StartedUpstream | null) {
    this.#o = o;
    this.#model = model;
    this.#started = started;
  }

  get detail(): Readonly<Record<string, unknown>> {
    return { upstream: this.#o.url, upstreamModel: this.#model, ...(this.#started ? { upstreamPid: this.#started.pid } : {}) };
  }

  /** Checks that the upstream answers and learns its model name. */
  static async connect(o: OpenAiProxyOptions, signal?: AbortSignal, started: StartedUpstream | null = null): Promise<OpenAiProxyBackend> {
    const res = await send('GET', `${o.url}/v1/models`, undefined, o.timeoutMs, signal);
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new RunnerError('ERR_RUNNER_BACKEND', `the upstream answered HTTP ${res.statusCode} to GET /v1/models`);
    let first: unknown;
    try {
      first = (JSON.parse(text) as { data?: Array<{ id?: unknown }> }).data?.[0]?.id;
    } catch {
      first = undefined;
    }
    const model = o.model ?? (typeof first === 'string' ? first : null);
    if (model === null) throw new RunnerError('ERR_RUNNER_BACKEND', 'the upstream lists no model in /v1/models; set backend.model');
    return new OpenAiProxyBackend(o, model, started);
  }

  async *generate(messages: readonly ChatMessage[], params: GenerateParams): AsyncIterable<string> {
    const body = {
      model: this.#model,
      messages: messages.map((m) => ({ role: m.role, content: m.content })),
      stream: true,
      max_tokens: params.maxTokens,
      ...(params.temperature === undefined ? {} : { temperature: params.temperature }),
      ...(params.seed === undefined ? {} : { seed: params.seed }),
      ...(params.stop && params.stop.length > 0 ? { stop: params.stop } : {}),
    };
    const res = await send('POST', `${this.#o.url}/v1/chat/completions`, body, this.#o.timeoutMs, params.signal);
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new RunnerError('ERR_RUNNER_BACKEND', `the upstream answered HTTP ${res.statusCode}`);
    }
    let count = 0;
    for await (const data of sseData(res.body)) {
      if (data === '[DONE]') return;
      const piece = contentOf(data);
      if (piece) {
        yield piece;
        // The upstream enforces max_tokens; this keeps a misbehaving one within the bound too.
        if (++count >= params.maxTokens) return;
      }
    }
  }

  /** An estimate (about 4 characters a token): the upstream's tokenizer is not visible from here. */
  countTokens(text: string): number {
    return Math.ceil(text.length / 4);
  }

  /** Stops the upstream when the runner started it. */
  async close(): Promise<void> {
    await this.#started?.stop();
  }
}

function contentOf(data: string): string | null {
  try {
    const c = (JSON.parse(data) as { choices?: Array<{ delta?: { content?: unknown } }> }).choices?.[0]?.delta?.content;
    return typeof c === 'string' && c.length > 0 ? c : null;
  } catch {
    return null;
  }
}

async function send(method: 'GET' | 'POST', url: string, body: unknown, timeoutMs: number, signal?: AbortSignal): Promise<Awaited<ReturnType<typeof request>>> {
  try {
    return await request(url, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json', accept: 'text/event-stream' } }),
      ...(signal ? { signal } : {}),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
  } catch (cause) {
    if (signal?.aborted) throw cause;
    throw new RunnerError('ERR_RUNNER_BACKEND', `the upstream at ${new URL(url).origin} is unreachable: ${(cause as { code?: string }).code ?? (cause as Error).name}`, { cause });
  }
}
