import { KeyError } from '../errors.js';
import { isSafeRelativePath } from '../signing/statement.js';

/** How the data key reaches the unsealer: wrapped in the header, or held by a key service under `kid`. */
export type WrapAlgorithm = 'RSA-OAEP-256' | 'dir';

/** Container metadata (the `meta` JSON of the header). Nothing here is secret. */
export interface SealMeta {
  /** Relative path of the model file, exactly as in the OMS manifest. */
  readonly name: string;
  /** Key reference: the wrapping key (RSA-OAEP-256) or the data key itself (dir) at the key service. */
  readonly kid: string;
  readonly wrap: WrapAlgorithm;
  /** RSA-OAEP-256 ciphertext of the data key; absent for `dir`. */
  readonly wrappedKey?: Buffer;
  /** The OMS root digest of the model this file belongs to, lowercase hex. */
  readonly omsRootDigest: string;
  /** SHA-256 of the exact `model.sig` bundle bytes, when the model was signed. */
  readonly omsBundleSha256?: string;
}

const HEX64 = /^[0-9a-f]{64}$/;
const B64URL = /^[A-Za-z0-9_-]+$/;
const KEYS = new Set(['name', 'kid', 'wrap', 'wrapped_dek', 'oms_root_digest', 'oms_bundle_sha256']);

/** The meta JSON bytes. Its exact bytes are bound by the header hash, so no canonical form is needed. */
export function encodeMeta(m: SealMeta): Buffer {
  const json: Record<string, string> = { name: m.name, kid: m.kid, wrap: m.wrap };
  if (m.wrappedKey) json.wrapped_dek = m.wrappedKey.toString('base64url');
  json.oms_root_digest = `sha256:${m.omsRootDigest}`;
  if (m.omsBundleSha256 !== undefined) json.oms_bundle_sha256 = m.omsBundleSha256;
  checkMeta(json);
  return Buffer.from(JSON.stringify(json), 'utf8');
}

/** Parses and validates meta JSON; any deviation is ERR_SEAL_META_MALFORMED (unknown keys too: fail closed). */
export function decodeMeta(bytes: Uint8Array): SealMeta {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new KeyError('ERR_SEAL_META_MALFORMED', 'container metadata is not UTF-8 JSON', { cause });
  }
  const m = checkMeta(json);
  return {
    name: m.name!,
    kid: m.kid!,
    wrap: m.wrap as WrapAlgorithm,
    ...(m.wrapped_dek === undefined ? {} : { wrappedKey: Buffer.from(m.wrapped_dek, 'base64url') }),
    omsRootDigest: m.oms_root_digest!.slice('sha256:'.length),
    ...(m.oms_bundle_sha256 === undefined ? {} : { omsBundleSha256: m.oms_bundle_sha256 }),
  };
}

function checkMeta(json: unknown): Record<string, string> {
  const bad = (why: string) => new KeyError('ERR_SEAL_META_MALFORMED', `container metadata: ${why}`);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad('not a JSON object');
  const m = json as Record<string, unknown>;
  for (const k of Object.keys(m)) if (!KEYS.has(k) || typeof m[k] !== 'string') throw bad(`field ${JSON.stringify(k)} is unknown or not a string`);
  const s = m as Record<string, string>;
  if (s.name === undefined || !isSafeRelativePath(s.name)) throw bad('name is not a relative path inside the model');
  if (s.kid === undefined || s.kid.length === 0 || s.kid.length > 2048) throw bad('kid is missing or longer than 2048 characters');
  if (s.wrap !== 'RSA-OAEP-256' && s.wrap !== 'dir') throw bad('wrap is neither RSA-OAEP-256 nor dir');
  if ((s.wrap === 'dir') !== (s.wrapped_dek === undefined)) throw bad('wrapped_dek must be present exactly when wrap is RSA-OAEP-256');
  if (s.wrapped_dek !== undefined && !B64URL.test(s.wrapped_dek)) throw bad('wrapped_dek is not base64url');
  if (!/^sha256:[0-9a-f]{64}$/.test(s.oms_root_digest ?? '')) throw bad('oms_root_digest is not sha256:<64 hex>');
  if (s.oms_bundle_sha256 !== undefined && !HEX64.test(s.oms_bundle_sha256)) throw bad('oms_bundle_sha256 is not 64 hex digits');
  return s;
}
