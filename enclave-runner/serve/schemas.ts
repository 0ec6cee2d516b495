import type { LimitsConfig } from '../config/types.js';

/**
 * Request schemas of the OpenAI-compatible API. Fields clients commonly send but this runner does not use
 * (tools, logit_bias, penalties, ...) are accepted and ignored, as OpenAI-compatible servers do; what it
 * cannot honour (n > 1) is refused.
 */

const nullable = (t: string): { type: string[] } => ({ type: [t, 'null'] });
const stop = { anyOf: [{ type: 'string', maxLength: 256 }, { type: 'array', maxItems: 4, items: { type: 'string', maxLength: 256 } }, { type: 'null' }] };
const sampling = {
  max_tokens: { ...nullable('integer'), minimum: 1 },
  temperature: { ...nullable('number'), minimum: 0, maximum: 2 },
  top_p: { ...nullable('number'), minimum: 0, maximum: 1 },
  seed: nullable('integer'),
  stop,
  n: { ...nullable('integer'), minimum: 1, maximum: 1 },
  stream: nullable('boolean'),
  stream_options: { type: ['object', 'null'], properties: { include_usage: { type: 'boolean' } } },
  user: { type: 'string', maxLength: 256 },
  model: { type: 'string', maxLength: 256 },
};

const contentPart = { type: 'object', required: ['type'], properties: { type: { type: 'string', maxLength: 32 }, text: { type: 'string' } } };

/** POST /v1/chat/completions body (messages bounded by limits.maxMessages). */
export function chatBodySchema(limits: LimitsConfig): Record<string, unknown> {
  const message = {
    type: 'object',
    required: ['role'],
    properties: {
      role: { type: 'string', enum: ['system', 'developer', 'user', 'assistant', 'tool'] },
      content: { anyOf: [{ type: 'string' }, { type: 'array', maxItems: 64, items: contentPart }, { type: 'null' }] },
      name: { type: 'string', maxLength: 64 },
    },
  };
  return {
    type: 'object',
    required: ['messages'],
    properties: { ...sampling, messages: { type: 'array', minItems: 1, maxItems: limits.maxMessages, items: message }, max_completion_tokens: { ...nullable('integer'), minimum: 1 } },
  };
}

/** POST /v1/completions body (one prompt). */
export function completionBodySchema(): Record<string, unknown> {
  return {
    type: 'object',
    required: ['prompt'],
    properties: { ...sampling, prompt: { anyOf: [{ type: 'string' }, { type: 'array', minItems: 1, maxItems: 1, items: { type: 'string' } }] } },
  };
}

/** Fields chat and text completions share. */
export interface SamplingBody {
  readonly model?: string;
  readonly max_tokens?: number | null;
  readonly max_completion_tokens?: number | null;
  readonly temperature?: number | null;
  readonly seed?: number | null;
  readonly stop?: string | string[] | null;
  readonly stream?: boolean | null;
  readonly stream_options?: { readonly include_usage?: boolean } | null;
  readonly user?: string;
}

/** A validated chat completion request. */
export interface ChatBody extends SamplingBody {
  readonly messages: ReadonlyArray<{ readonly role: string; readonly content?: string | ReadonlyArray<{ readonly type: string; readonly text?: string }> | null }>;
}

/** A validated text completion request. */
export interface CompletionBody extends SamplingBody {
  readonly prompt: string | readonly string[];
}
