import type { KeystoreError, KeystoreErrorCode } from './errors.js';

/** Key Vault's error body: `{"error":{"code","message","innererror"?:{"code"}}}` (azure-protocols.md §3.2). */
export interface KeyVaultErrorBody {
  error: { code: string; message: string; innererror?: { code: string } };
}

interface Mapping {
  readonly status: number;
  readonly code: string;
  /** Key Vault's own numbered error, put in front of the message as Key Vault does ("AKV.SKR.1004: ..."). */
  readonly akv?: string;
  readonly inner?: string;
}

const BAD: Mapping = { status: 400, code: 'BadParameter' };
const FORBIDDEN: Mapping = { status: 403, code: 'Forbidden' };
const INTERNAL: Mapping = { status: 500, code: 'InternalServerError' };

/** How each failure of a key operation answers on Key Vault's REST API. Unlisted codes are internal errors. */
const KEY_VAULT: Partial<Record<KeystoreErrorCode, Mapping>> = {
  ERR_KEYSTORE_NAME: BAD,
  ERR_KEYSTORE_NOT_FOUND: { status: 404, code: 'KeyNotFound' },
  ERR_KEYSTORE_NOT_DELETED: { status: 404, code: 'KeyNotFound' },
  ERR_KEYSTORE_EXISTS: { status: 409, code: 'Conflict' },
  ERR_KEYSTORE_DELETED: { status: 409, code: 'Conflict' },
  ERR_KEYSTORE_CONFLICT: { status: 409, code: 'Conflict' },
  ERR_KEYSTORE_KEY_TYPE: BAD,
  ERR_KEYSTORE_KEY_MATERIAL: BAD,
  ERR_KEYSTORE_KEY_OPS: BAD,
  ERR_KEYSTORE_POLICY_INVALID: BAD,
  ERR_KEYSTORE_EXPORTABLE_NEEDS_POLICY: { ...BAD, akv: 'AKV.SKR.1004' },
  ERR_KEYSTORE_POLICY_NEEDS_EXPORTABLE: { ...BAD, akv: 'AKV.SKR.1005' },
  ERR_KEYSTORE_EXPORTABLE_FIXED: { ...BAD, akv: 'AKV.SKR.1003' },
  ERR_KEYSTORE_POLICY_IMMUTABLE: { ...BAD, akv: 'AKV.SKR.1020' },
  ERR_KEYSTORE_DISABLED: { ...FORBIDDEN, inner: 'KeyDisabled' },
  ERR_KEYSTORE_NOT_EXPORTABLE: { ...FORBIDDEN, inner: 'KeyNotExportable' },
  ERR_KEK_REMOTE: { status: 503, code: 'ServiceUnavailable' },
  ERR_WRAP_ENC: BAD,
  ERR_WRAP_TEE_KEY: BAD,
  ERR_WRAP_TEE_KEY_SIZE: BAD,
  ERR_WRAP_TEE_KEY_OPS: BAD,
};

/** Key Vault's numbered code for a failure, e.g. AKV.SKR.1004, when Key Vault has one. */
export function akvCodeOf(code: KeystoreErrorCode): string | undefined {
  return KEY_VAULT[code]?.akv;
}

/**
 * The HTTP status and Key Vault error body for a keystore failure, so the KRS answers as Key Vault does.
 * Internal failures (corruption, KEK, storage) get a generic message: their detail belongs in the server log.
 */
export function toKeyVaultError(e: KeystoreError): { status: number; body: KeyVaultErrorBody } {
  const m = KEY_VAULT[e.code] ?? INTERNAL;
  const message = m === INTERNAL ? `The key operation failed (${e.code}).` : m.akv ? `${m.akv}: ${e.message}` : e.message;
  const error: KeyVaultErrorBody['error'] = m.inner ? { code: m.code, message, innererror: { code: m.inner } } : { code: m.code, message };
  return { status: m.status, body: { error } };
}
