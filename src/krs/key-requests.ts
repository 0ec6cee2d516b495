import type { CreateKeyInput, ImportKeyInput, ImportedJwk, KeyType, KeyUpdate, ReleasePolicyInput } from '../../keys/keystore/index.js';
import { KrsError } from './errors.js';
import type { AttributesBody, CreateKeyBody, ImportKeyBody, ReleasePolicyBody, UpdateKeyBody } from './routes/key-schemas.js';

/**
 * Key Vault request bodies as keystore inputs. What Key Vault can do and this KRS cannot (activation and
 * expiry dates, tags, other exponents, changing key_ops) is refused with ERR_KEY_FEATURE_UNSUPPORTED rather
 * than silently dropped: a key the caller believes expires must not live forever.
 */
export function toCreateInput(body: CreateKeyBody): CreateKeyInput {
  refuseUnsupported(body.attributes, body.tags);
  if (body.public_exponent !== undefined && body.public_exponent !== 65537) unsupported('public_exponent other than 65537');
  if (body.crv !== undefined) unsupported('EC keys (crv)');
  const a = body.attributes ?? {};
  return {
    kty: body.kty as KeyType,
    ...(body.key_size === undefined ? {} : { keySize: body.key_size }),
    ...(body.key_ops === undefined ? {} : { keyOps: body.key_ops }),
    ...(a.enabled === undefined ? {} : { enabled: a.enabled }),
    ...(a.exportable === undefined ? {} : { exportable: a.exportable }),
    ...(body.release_policy === undefined ? {} : { releasePolicy: policyInput(body.release_policy) }),
  };
}

/** PUT /keys/{name}: an oct key's bytes or an RSA private key, with create's attributes and release policy. */
export function toImportInput(body: ImportKeyBody): ImportKeyInput {
  refuseUnsupported(body.attributes, body.tags);
  const j = body.key;
  if (j.kty.startsWith('EC') || j.crv !== undefined || j.x !== undefined || j.y !== undefined) unsupported('EC keys');
  if (j.key_hsm !== undefined) unsupported('importing HSM-protected key blobs (key_hsm, BYOK)');
  if (body.Hsm !== undefined && body.hsm !== undefined && body.Hsm !== body.hsm) throw new KrsError('ERR_KEY_FEATURE_UNSUPPORTED', 'Hsm and hsm disagree');
  const hsm = body.Hsm ?? body.hsm;
  const a = body.attributes ?? {};
  const key: ImportedJwk = {
    kty: j.kty,
    ...(j.key_ops === undefined ? {} : { key_ops: j.key_ops }),
    ...Object.fromEntries((['k', 'n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'] as const).filter((part) => j[part] !== undefined).map((part) => [part, j[part]])),
  };
  return {
    key,
    ...(hsm === undefined ? {} : { hsm }),
    ...(a.enabled === undefined ? {} : { enabled: a.enabled }),
    ...(a.exportable === undefined ? {} : { exportable: a.exportable }),
    ...(body.release_policy === undefined ? {} : { releasePolicy: policyInput(body.release_policy) }),
  };
}

/** PATCH: enabled, exportable (only to its current value) and the release policy (versionless key only). */
export function toKeyUpdate(body: UpdateKeyBody, version: string | undefined): KeyUpdate {
  refuseUnsupported(body.attributes, body.tags);
  if (body.key_ops !== undefined) unsupported('changing key_ops');
  if (body.release_policy !== undefined && version !== undefined) throw new KrsError('ERR_POLICY_VERSIONLESS', 'AKV.SKR.1016: Key Release Policy can only be set on versionless key');
  const a = body.attributes ?? {};
  return {
    ...(a.enabled === undefined ? {} : { enabled: a.enabled }),
    ...(a.exportable === undefined ? {} : { exportable: a.exportable }),
    ...(body.release_policy === undefined ? {} : { releasePolicy: policyInput(body.release_policy) }),
  };
}

function policyInput(p: ReleasePolicyBody): ReleasePolicyInput {
  return { data: p.data, ...(p.contentType === undefined ? {} : { contentType: p.contentType }), ...(p.immutable === undefined ? {} : { immutable: p.immutable }) };
}

function refuseUnsupported(a: AttributesBody | undefined, tags: Record<string, string> | undefined): void {
  if (a?.nbf !== undefined || a?.exp !== undefined) unsupported('activation and expiry dates (attributes.nbf, attributes.exp)');
  if (tags !== undefined && Object.keys(tags).length > 0) unsupported('tags');
}

function unsupported(what: string): never {
  throw new KrsError('ERR_KEY_FEATURE_UNSUPPORTED', `this KRS does not support ${what}`);
}
