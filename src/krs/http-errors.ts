import type { FastifyError } from 'fastify';
import { KrsError, type KrsErrorCode, type KrsErrorDetail } from './errors.js';

const FASTIFY_CODES: Readonly<Record<string, KrsErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'ERR_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_JSON_BODY: 'ERR_MALFORMED_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'ERR_MALFORMED_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'ERR_INVALID_REQUEST',
};

interface ValidationIssue {
  readonly keyword: string;
  readonly instancePath: string;
  readonly message?: string;
  readonly params: Record<string, unknown>;
}

/**
 * The one place that maps any error to the catalogue. Framework messages are never passed through (a JSON
 * parse error quotes the body); schema failures become one detail per failed check; anything unknown is a
 * 500 ERR_INTERNAL with a generic message.
 */
export function toKrsError(error: FastifyError | Error): KrsError {
  if (error instanceof KrsError) return error;
  const fe = error as FastifyError & { validation?: ValidationIssue[]; validationContext?: string };
  if (Array.isArray(fe.validation)) return fromValidation(fe.validation, fe.validationContext ?? 'body');
  const mapped = fe.code ? FASTIFY_CODES[fe.code] : undefined;
  if (mapped) return new KrsError(mapped);
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return new KrsError('ERR_INVALID_REQUEST');
  return new KrsError('ERR_INTERNAL');
}

function fromValidation(issues: readonly ValidationIssue[], context: string): KrsError {
  const where = (v: ValidationIssue): string => `${context}${v.instancePath.replace(/\//g, '.')}`;
  const isBase64 = (v: ValidationIssue): boolean => v.keyword === 'format' && v.params.format === 'base64url';
  const details: KrsErrorDetail[] = issues.map((v) => ({
    code: isBase64(v) ? 'ERR_INVALID_BASE64URL' : 'ERR_INVALID_REQUEST',
    message: isBase64(v) ? `${where(v)}: not base64url (A-Z a-z 0-9 - _ and optional = padding)` : `${where(v)} ${v.message ?? 'is invalid'}${additional(v)}`,
  }));
  if (context === 'querystring' && issues.some((v) => v.instancePath === '/api-version' || v.params.missingProperty === 'api-version')) {
    return new KrsError('ERR_API_VERSION_UNSUPPORTED', undefined, { details });
  }
  return new KrsError(issues.every(isBase64) ? 'ERR_INVALID_BASE64URL' : 'ERR_INVALID_REQUEST', undefined, { details });
}

/** Names the offending property: Ajv's own message for additionalProperties does not. */
function additional(v: ValidationIssue): string {
  return v.keyword === 'additionalProperties' && typeof v.params.additionalProperty === 'string' ? ` ("${v.params.additionalProperty.slice(0, 64)}")` : '';
}
