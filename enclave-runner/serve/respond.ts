import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ChatMessage, GenerateParams } from '../backends/backend.js';
import { RunnerError } from '../errors.js';
import { openAiError, sendError } from './openai-errors.js';
import { type Caller, type FinishReason, GuardedGeneration, type Serving, admit } from './pipeline.js';
import type { SamplingBody } from './schemas.js';

/** How chat and text completions differ in their JSON: object names, and where the text goes. */
export interface Shape {
  readonly idPrefix: 'chatcmpl' | 'cmpl';
  readonly object: 'chat.completion' | 'text_completion';
  readonly chunkObject: 'chat.completion.chunk' | 'text_completion';
  /** A whole answer's choice. */
  choice(text: string, finish: FinishReason): Record<string, unknown>;
  /** A streamed delta's choice; `first` carries the role for chat. */
  delta(text: string, first: boolean): Record<string, unknown>;
  final(finish: FinishReason): Record<string, unknown>;
}

/** One completion request, as the route read it. */
export interface Call {
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
  readonly body: SamplingBody;
  readonly messages: ChatMessage[];
  readonly caller: Caller;
  readonly shape: Shape;
}

/**
 * Answers one completion request: input guardian, then the backend through the output guardian, as one
 * JSON answer or as server-sent events (`data: {chunk}` ... `data: [DONE]`), in OpenAI's shapes.
 */
export async function respond(s: Serving, call: Call): Promise<FastifyReply | undefined> {
  const { reply, body, messages, caller, shape } = call;
  const maxTokens = body.max_tokens ?? (body as { max_completion_tokens?: number | null }).max_completion_tokens ?? s.limits.maxTokens;
  if (maxTokens > s.limits.maxTokens) return sendError(reply, 400, openAiError(`max_tokens must be at most ${s.limits.maxTokens} on this runner`, 'invalid_request_error', 'max_tokens_too_large', 'max_tokens'));
  const decision = admit(s, messages, caller);
  if (decision && !decision.allowed) {
    if (decision.retryAfterSeconds !== undefined) void reply.header('retry-after', String(decision.retryAfterSeconds));
    return sendError(reply, decision.status, decision.body as unknown as Parameters<typeof sendError>[2]);
  }
  const abort = new AbortController();
  // The response closing before it ended means the client went away: stop generating for it.
  reply.raw.on('close', () => {
    if (!reply.raw.writableEnded) abort.abort();
  });
  const stop = body.stop === undefined || body.stop === null ? [] : typeof body.stop === 'string' ? [body.stop] : body.stop;
  const params: GenerateParams = {
    maxTokens,
    ...(body.temperature === undefined || body.temperature === null ? {} : { temperature: body.temperature }),
    ...(body.seed === undefined || body.seed === null ? {} : { seed: body.seed >>> 0 }),
    stop,
    signal: abort.signal,
  };
  const id = `${shape.idPrefix}-${randomBytes(12).toString('hex')}`;
  const meta = { id, created: Math.floor(Date.now() / 1000), model: s.model.id };
  const gen = new GuardedGeneration(s, id);
  const promptTokens = s.backend.countTokens([s.systemMessage, ...messages.map((m) => m.content)].join('\n'));
  s.metrics.tokens.inc({ kind: 'prompt' }, promptTokens);
  const usage = (): Record<string, number> => ({ prompt_tokens: promptTokens, completion_tokens: gen.completionTokens, total_tokens: promptTokens + gen.completionTokens });
  if (body.stream) return stream(call, gen.pieces(messages, params), gen, meta, body.stream_options?.include_usage === true ? usage : null, s, abort);
  let text = '';
  try {
    for await (const piece of gen.pieces(messages, params)) text += piece;
  } catch (e) {
    return sendError(reply, 502, backendError(e));
  }
  s.metrics.tokens.inc({ kind: 'completion' }, gen.completionTokens);
  return reply.header('cache-control', 'no-store').send({ ...meta, object: shape.object, choices: [shape.choice(text, gen.finishReason)], usage: usage() });
}

async function stream(
  call: Call,
  pieces: AsyncGenerator<string>,
  gen: GuardedGeneration,
  meta: { id: string; created: number; model: string },
  usage: (() => Record<string, number>) | null,
  s: Serving,
  abort: AbortController,
): Promise<undefined> {
  const { reply, shape } = call;
  const started = performance.now();
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  const send = (data: unknown): void => {
    if (!raw.destroyed) raw.write(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
  };
  const chunk = (choice: Record<string, unknown>): void => send({ ...meta, object: shape.chunkObject, choices: [choice] });
  chunk(shape.delta('', true));
  try {
    for await (const piece of pieces) {
      if (abort.signal.aborted) break;
      chunk(shape.delta(piece, false));
    }
    chunk(shape.final(gen.finishReason));
    if (usage) send({ ...meta, object: shape.chunkObject, choices: [], usage: usage() });
  } catch (e) {
    // Headers are gone: OpenAI-compatible servers report a failure mid-stream as an error event.
    send(backendError(e));
  } finally {
    s.metrics.tokens.inc({ kind: 'completion' }, gen.completionTokens);
    send('[DONE]');
    raw.end();
    // A hijacked reply skips fastify's onResponse hook: count the stream here.
    const route = call.request.routeOptions.url ?? 'unmatched';
    s.metrics.httpRequests.inc({ route, method: 'POST', status: '200' });
    s.metrics.httpDuration.observe({ route }, (performance.now() - started) / 1000);
  }
  return undefined;
}

function backendError(e: unknown): ReturnType<typeof openAiError> {
  const detail = e instanceof RunnerError ? e.message : 'the model backend failed';
  return openAiError(detail, 'server_error', 'zt4ai_backend_error');
}
