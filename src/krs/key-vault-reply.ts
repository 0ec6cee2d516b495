import type { FastifyError } from 'fastify';
import { isPolicyError, policyMistakes } from '../../attestation/policy/index.js';
import { isKeystoreError, toKeyVaultError } from '../../keys/keystore/index.js';
import { KrsError, type KrsErrorCode, type KrsErrorDetail } from './errors.js';
import { toKrsError } from './http-errors.js';

/**
 * Key Vault's error body, plus zt4ai's stable code and, where there are any, every failed check:
 * `{"error":{"code","message","innererror"?:{"code"},"zt4aiCode","details"?:[…]}}`. The SDK reads code,
 * message and innererror; tools switch on zt4aiCode (a KRS_ERROR_CODES or KEYSTORE_ERROR_CODES code).
 */
export interface KeyVaultReplyBody {
  error: { code: string; message: string; innererror?: { code: string }; zt4aiCode: string; details?: KrsErrorDetail[] };
}

/** Key Vault's answer to a refused release, whatever the reason (azure-protocols.md §3.2). */
export const RELEASE_DENIED_MESSAGE = 'Target environment attestation statement cannot be verified.';

const RELEASE_DENIALS = new Set<KrsErrorCode>([
  'ERR_TARGET_MALFORMED',
  'ERR_TARGET_UNTRUSTED_ISSUER',
  'ERR_TARGET_SIGNATURE',
  'ERR_TARGET_EXPIRED',
  'ERR_TARGET_NOT_YET_VALID',
  'ERR_TARGET_NO_TEE_KEY',
  'ERR_RELEASE_POLICY_DENIED',
  'ERR_RELEASE_POLICY_INVALID',
]);

const BY_STATUS: Readonly<Record<number, string>> = {
  400: 'BadParameter',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  413: 'BadParameter',
  415: 'BadParameter',
  429: 'Throttled',
  502: 'BadGateway',
  503: 'ServiceUnavailable',
};

/** Any error thrown on the key, release or audit API as Key Vault's status and body. */
export function keyVaultReply(error: unknown): { status: number; body: KeyVaultReplyBody } {
  if (isKeystoreError(error)) {
    const { status, body } = toKeyVaultError(error);
    const details = isPolicyError(error.cause) ? policyMistakes(error.cause).map((m) => ({ code: m.code, message: m.message, path: m.path })) : [];
    return { status, body: { error: { ...body.error, zt4aiCode: error.code, ...(details.length > 0 ? { details } : {}) } } };
  }
  const krs = error instanceof KrsError ? error : toKrsError(error as FastifyError);
  const denial = RELEASE_DENIALS.has(krs.code);
  const code = BY_STATUS[krs.statusCode] ?? 'InternalServerError';
  const innererror = denial ? { code: 'AccessDenied' } : krs.code === 'ERR_AUTH_ROLE' ? { code: 'ForbiddenByRbac' } : undefined;
  const message = denial ? RELEASE_DENIED_MESSAGE : krs.message;
  const details = denial && krs.code !== 'ERR_RELEASE_POLICY_DENIED' ? [{ code: krs.code, message: krs.message }, ...krs.details] : [...krs.details];
  return {
    status: krs.statusCode,
    body: { error: { code, message, ...(innererror ? { innererror } : {}), zt4aiCode: krs.code, ...(details.length > 0 ? { details } : {}) } },
  };
}
