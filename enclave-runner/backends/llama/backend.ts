import { randomInt } from 'node:crypto';
import type { LlamaBackendConfig } from '../../config/types.js';
import { RunnerError } from '../../errors.js';
import type { PlaintextStore } from '../../startup/plaintext.js';
import type { Track } from '../../startup/secrets.js';
import type { ChatMessage, GenerateParams, InferenceBackend } from '../backend.js';
import { type ChunkSink, chunkStream } from './chunk-stream.js';
import { toChatHistory, toCompletionPrompt } from './prompt.js';
import { loadLlamaRuntime } from './runtime.js';
import { SequencePool } from './sequence-pool.js';
import { stageModelFile } from './model-file.js';

type Lib = typeof import('node-llama-cpp');
type Llama = Awaited<ReturnType<Lib['getLlama']>>;
type Model = Awaited<ReturnType<Llama['loadModel']>>;
type Context = Awaited<ReturnType<Model['createContext']>>;
type Sequence = ReturnType<Context['getSequence']>;

/** Sampling default when a request names no temperature (OpenAI's is 1; small models ramble less a bit lower). */
const DEFAULT_TEMPERATURE = 0.8;
const MAX_DEFAULT_CONTEXT = 4096;

/** What /status shows of the loaded model. */
export interface LlamaModelInfo {
  readonly architecture: string;
  readonly contextSize: number;
  readonly gpu: string | false;
  readonly threads: number;
  readonly promptFormat: 'chat' | 'completion';
}

/**
 * GGUF models in this process through node-llama-cpp. The plaintext file exists only for the load (then
 * it is unlinked and the memory copy zeroed); prompts and answers never leave the process, so they stay
 * inside the attested boundary with the guardians.
 */
export class LlamaBackend implements InferenceBackend {
  readonly kind = 'llama';
  readonly info: LlamaModelInfo;
  readonly #lib: Lib;
  readonly #llama: Llama;
  readonly #model: Model;
  readonly #context: Context;
  readonly #pool: SequencePool<Sequence>;

  private constructor(lib: Lib, llama: Llama, model: Model, context: Context, info: LlamaModelInfo) {
    this.#lib = lib;
    this.#llama = llama;
    this.#model = model;
    this.#context = context;
    this.info = info;
    this.#pool = new SequencePool(Array.from({ length: context.totalSequences }, () => context.getSequence()));
  }

  static async load(config: LlamaBackendConfig, store: PlaintextStore, track: Track, signal?: AbortSignal): Promise<LlamaBackend> {
    const { lib, llama } = await loadLlamaRuntime(config.gpu, config.threads);
    let model: Model | null = null;
    try {
      const staged = await stageModelFile(store, config.file, track);
      try {
        model = await llama.loadModel({ modelPath: staged.path, ...(signal ? { loadSignal: signal } : {}) });
      } catch (cause) {
        throw new RunnerError('ERR_RUNNER_MODEL_LOAD', `llama.cpp refused ${config.file}: ${(cause as Error).message} (is it a GGUF model of an architecture this llama.cpp knows?)`, { cause });
      } finally {
        await staged.remove();
      }
      const contextSize = config.contextSize ?? Math.min(model.trainContextSize || MAX_DEFAULT_CONTEXT, MAX_DEFAULT_CONTEXT);
      const context = await model.createContext({ contextSize, sequences: config.parallel, threads: config.threads, ...(signal ? { createSignal: signal } : {}) });
      const hasTemplate = typeof model.fileInfo.metadata.tokenizer?.chat_template === 'string';
      const promptFormat = config.promptFormat === 'auto' ? (hasTemplate ? 'chat' : 'completion') : config.promptFormat;
      const info: LlamaModelInfo = {
        architecture: String(model.fileInfo.metadata.general?.architecture ?? 'unknown'),
        contextSize: context.contextSize,
        gpu: llama.gpu,
        threads: config.threads,
        promptFormat,
      };
      return new LlamaBackend(lib, llama, model, context, info);
    } catch (e) {
      await model?.dispose();
      await llama.dispose();
      if (e instanceof RunnerError) throw e;
      throw new RunnerError('ERR_RUNNER_MODEL_LOAD', `llama.cpp could not load the model: ${(e as Error).message}`, { cause: e });
    }
  }

  generate(messages: readonly ChatMessage[], params: GenerateParams): AsyncIterable<string> {
    return chunkStream((sink, signal) => this.#pool.use((sequence) => this.#run(sequence, messages, params, sink, signal), signal), params.signal);
  }

  async #run(sequence: Sequence, messages: readonly ChatMessage[], params: GenerateParams, sink: ChunkSink, signal: AbortSignal): Promise<void> {
    const options = {
      maxTokens: params.maxTokens,
      temperature: params.temperature ?? DEFAULT_TEMPERATURE,
      seed: params.seed ?? randomInt(2 ** 31),
      signal,
      stopOnAbortSignal: true,
      onTextChunk: (text: string) => sink.text(text),
      onToken: (tokens: readonly unknown[]) => sink.tokens(tokens.length),
      ...(params.stop && params.stop.length > 0 ? { customStopTriggers: params.stop.filter((s) => s.length > 0) } : {}),
    };
    // Each request is complete in itself (OpenAI's API is stateless): nothing of an earlier request stays.
    await sequence.clearHistory();
    if (this.info.promptFormat === 'completion') {
      const completion = new this.#lib.LlamaCompletion({ contextSequence: sequence });
      try {
        await completion.generateCompletion(toCompletionPrompt(messages), options);
      } finally {
        completion.dispose({ disposeSequence: false });
      }
      return;
    }
    const chat = new this.#lib.LlamaChat({ contextSequence: sequence, autoDisposeSequence: false });
    try {
      await chat.generateResponse(toChatHistory(messages), options);
    } finally {
      chat.dispose({ disposeSequence: false });
    }
  }

  get detail(): Readonly<Record<string, unknown>> {
    return { ...this.info };
  }

  countTokens(text: string): number {
    return this.#model.tokenize(text).length;
  }

  async close(): Promise<void> {
    await this.#context.dispose();
    await this.#model.dispose();
    await this.#llama.dispose();
  }
}
