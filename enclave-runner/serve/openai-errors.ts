import type { FastifyError, FastifyReply } from 'fastify';

/** OpenAI's error envelope, which clients already parse: `{"error": {message, type, param, code}}`. */
export interface OpenAiError {
  readonly error: { readonly message: string; readonly type: string; readonly param: string | null; readonly code: string | null };
}

export function openAiError(message: string, type: string, code: string | null, param: string | null = null): OpenAiError {
  return { error: { message, type, param, code } };
}

export function sendError(reply: FastifyReply, status: number, body: OpenAiError): FastifyReply {
  return reply.code(status).header('cache-control', 'no-store').send(body);
}

/**
 * fastify's own failures (schema, JSON, size, media type) in OpenAI's shape. Messages name the field
 * (ajv's instance path), never its value: a request body may hold anything.
 */
export function frameworkError(error: FastifyError): { status: number; body: OpenAiError } {
  if (error.validation) {
    const first = error.validation[0];
    const where = first?.instancePath ? first.instancePath.replace(/^\//, '').replace(/\//g, '.') : null;
    return { status: 400, body: openAiError(`invalid request: ${where ?? 'body'} ${first?.message ?? 'is invalid'}`, 'invalid_request_error', 'invalid_request', where) };
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, body: openAiError('the request body is larger than this runner accepts', 'invalid_request_error', 'request_too_large') };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, body: openAiError('send the request body as application/json', 'invalid_request_error', 'unsupported_media_type') };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, body: openAiError('the request body is not valid JSON', 'invalid_request_error', 'invalid_json') };
  }
  if (error instanceof SyntaxError || error.statusCode === 400) return { status: 400, body: openAiError('the request body is not valid JSON', 'invalid_request_error', 'invalid_json') };
  return { status: 500, body: openAiError('internal error', 'server_error', 'internal_error') };
}
