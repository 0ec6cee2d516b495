import { createHash } from 'node:crypto';
import { KeystoreError, isKeystoreError } from './errors.js';
import type { ReleasePolicy, ReleasePolicyInput } from './types.js';

/** Key Vault's default when a request omits contentType. */
export const DEFAULT_POLICY_CONTENT_TYPE = 'application/json; charset=utf-8';
const MAX_POLICY_BYTES = 64 * 1024;
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/**
 * Validates a parsed policy document (the KRS passes the release-policy engine's parser). Throws to refuse;
 * a non-keystore error becomes ERR_KEYSTORE_POLICY_INVALID carrying its message.
 */
export type PolicyValidator = (policy: unknown) => void;

/** Checks and normalises a policy from a request: base64url without padding, JSON object, default contentType. */
export function normalizeReleasePolicy(input: ReleasePolicyInput, validate?: PolicyValidator): ReleasePolicy {
  const invalid = (why: string, cause?: unknown): KeystoreError => new KeystoreError('ERR_KEYSTORE_POLICY_INVALID', `release policy: ${why}`, cause === undefined ? {} : { cause });
  if (input === null || typeof input !== 'object' || typeof input.data !== 'string') throw invalid('data must be a base64url string');
  const contentType = input.contentType ?? DEFAULT_POLICY_CONTENT_TYPE;
  if (typeof contentType !== 'string' || !/^application\/json(\s*;.*)?$/i.test(contentType)) throw invalid(`contentType "${String(contentType).slice(0, 80)}" is not application/json`);
  if (input.immutable !== undefined && typeof input.immutable !== 'boolean') throw invalid('immutable must be a boolean');
  if (!BASE64URL.test(input.data) || input.data.length === 0) throw invalid('data is not base64url');
  const bytes = Buffer.from(input.data, 'base64url');
  if (bytes.length > MAX_POLICY_BYTES) throw invalid(`the policy is larger than ${MAX_POLICY_BYTES} bytes`);
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw invalid('data does not decode to UTF-8 JSON');
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw invalid('the policy is not a JSON object');
  if (validate) {
    try {
      validate(doc);
    } catch (e) {
      if (isKeystoreError(e)) throw e;
      throw invalid(e instanceof Error ? e.message : 'refused by the policy validator', e);
    }
  }
  return { contentType, data: bytes.toString('base64url'), immutable: input.immutable ?? false };
}

/** base64url of a policy given as JSON text or an object, for callers that hold the document. */
export function encodeReleasePolicy(policy: string | object): string {
  return Buffer.from(typeof policy === 'string' ? policy : JSON.stringify(policy), 'utf8').toString('base64url');
}

/** Hex SHA-256 of the policy bytes: what the audit log records of a policy. */
export function policyDigest(policy: ReleasePolicy | null): string | null {
  return policy === null ? null : createHash('sha256').update(Buffer.from(policy.data, 'base64url')).digest('hex');
}

/** Key Vault's rule both ways: exportable keys need a policy (AKV.SKR.1004) and only they may have one (1005). */
export function assertExportableRule(name: string, exportable: boolean, policy: ReleasePolicy | null): void {
  if (exportable && policy === null) throw new KeystoreError('ERR_KEYSTORE_EXPORTABLE_NEEDS_POLICY', `key "${name}" is exportable but has no release policy`);
  if (!exportable && policy !== null) throw new KeystoreError('ERR_KEYSTORE_POLICY_NEEDS_EXPORTABLE', `key "${name}" is not exportable, so it must not have a release policy`);
}

/** Whether two policies are the same document under the same content type. */
export function samePolicy(a: ReleasePolicy | null, b: ReleasePolicy | null): boolean {
  if (a === null || b === null) return a === b;
  return a.contentType === b.contentType && a.data === b.data;
}
