import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ChatMessage } from '../backends/backend.js';
import type { LimitsConfig } from '../config/types.js';
import type { ApiKeys } from './auth.js';
import { openAiError, sendError } from './openai-errors.js';
import type { Caller, Serving } from './pipeline.js';
import { type Shape, respond } from './respond.js';
import { type ChatBody, type CompletionBody, chatBodySchema, completionBodySchema } from './schemas.js';

/** What the API routes need: limits, API keys, and the serving state. */
export interface OpenAiRouteOptions {
  readonly limits: LimitsConfig;
  readonly apiKeys: ApiKeys;
  /** The serving state, or null with the reason the runner does not serve (yet). */
  readonly serving: () => Serving | { readonly notServing: string };
}

const CHAT: Shape = {
  idPrefix: 'chatcmpl',
  object: 'chat.completion',
  chunkObject: 'chat.completion.chunk',
  choice: (text, finish) => ({ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: finish }),
  delta: (text, first) => ({ index: 0, delta: first ? { role: 'assistant', content: text } : { content: text }, logprobs: null, finish_reason: null }),
  final: (finish) => ({ index: 0, delta: {}, logprobs: null, finish_reason: finish }),
};

const TEXT: Shape = {
  idPrefix: 'cmpl',
  object: 'text_completion',
  chunkObject: 'text_completion',
  choice: (text, finish) => ({ index: 0, text, logprobs: null, finish_reason: finish }),
  delta: (text) => ({ index: 0, text, logprobs: null, finish_reason: null }),
  final: (finish) => ({ index: 0, text: '', logprobs: null, finish_reason: finish }),
};

/**
 * OpenAI's API: `GET /v1/models`, `POST /v1/chat/completions`, `POST /v1/completions` (each with
 * `stream: true` as server-sent events). Bearer API keys when configured; 503 `zt4ai_not_ready` until the
 * start-up sequence has verified, unsealed and loaded the model.
 */
export async function openAiRoutes(app: FastifyInstance, o: OpenAiRouteOptions): Promise<void> {
  app.addHook('onRequest', async (request, reply) => {
    if (o.apiKeys.required && o.apiKeys.identify(request.headers.authorization) === null) {
      return sendError(reply, 401, openAiError('Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key'));
    }
    const s = o.serving();
    if ('notServing' in s) return sendError(reply, 503, openAiError(s.notServing, 'server_error', 'zt4ai_not_ready'));
    return undefined;
  });
  app.get('/v1/models', async () => {
    const s = o.serving() as Serving;
    return { object: 'list', data: [{ id: s.model.id, object: 'model', created: 0, owned_by: 'zt4ai' }] };
  });
  app.post('/v1/chat/completions', { schema: { body: chatBodySchema(o.limits) } }, async (request: FastifyRequest<{ Body: ChatBody }>, reply: FastifyReply) => {
    const s = o.serving() as Serving;
    const messages: ChatMessage[] = request.body.messages.map((m) => ({ role: roleOf(m.role), content: textOf(m.content) }));
    return respond(s, { request, reply, body: request.body, messages, caller: callerOf(o, request, request.body.user), shape: CHAT });
  });
  app.post('/v1/completions', { schema: { body: completionBodySchema() } }, async (request: FastifyRequest<{ Body: CompletionBody }>, reply: FastifyReply) => {
    const s = o.serving() as Serving;
    const prompt = typeof request.body.prompt === 'string' ? request.body.prompt : (request.body.prompt[0] ?? '');
    return respond(s, { request, reply, body: request.body, messages: [{ role: 'user', content: prompt }], caller: callerOf(o, request, request.body.user), shape: TEXT });
  });
}

/** OpenAI's newer "developer" role is a system message by another name. */
function roleOf(role: string): ChatMessage['role'] {
  return role === 'developer' ? 'system' : (role as ChatMessage['role']);
}

/** Text content only: content parts other than text (images, audio) are dropped. */
function textOf(content: ChatBody['messages'][number]['content']): string {
  if (typeof content === 'string') return content;
  if (!content) return '';
  return content.map((p) => (p.type === 'text' && typeof p.text === 'string' ? p.text : '')).join('');
}

function callerOf(o: OpenAiRouteOptions, request: FastifyRequest, user: string | undefined): Caller {
  const apiKeyId = o.apiKeys.required ? o.apiKeys.identify(request.headers.authorization) : null;
  return { ...(apiKeyId ? { apiKeyId } : {}), ...(user ? { conversationId: user } : {}) };
}
