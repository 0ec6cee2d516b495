import { CompactSign } from 'jose';
import { KeystoreError } from '../keystore/errors.js';
import { type ReleaseEnc, parseReleaseEnc } from '../wrap/enc.js';
import { wrapForRelease } from '../wrap/key-hsm.js';
import type { TeeJwk } from '../wrap/tee-key.js';
import type { ReleasePayload } from './payload.js';
import type { ReleaseSigner } from './signer.js';

/** The released key in Key Vault's KeyBundle shape (what `toKeyBundle` gives for the version). */
export interface ReleasedKeyBundle {
  readonly key: { readonly kid: string; readonly kty: string; readonly key_ops: readonly string[]; readonly n?: string; readonly e?: string };
  readonly attributes: { readonly created: number; readonly enabled: boolean; readonly exportable: boolean; readonly recoverableDays: number; readonly recoveryLevel: string; readonly updated: number };
  readonly release_policy?: { readonly contentType: string; readonly data: string; readonly immutable: boolean };
}

export interface BuildReleaseInput {
  readonly signer: ReleaseSigner;
  readonly bundle: ReleasedKeyBundle;
  /** Private material: raw bytes (oct) or PKCS#8 DER (RSA). Not wiped here: the caller owns it. */
  readonly material: Uint8Array;
  /** The TEE's RSA public key from the verified token's `x-ms-runtime.keys`. */
  readonly teeKey: TeeJwk;
  /** The request as the caller sent it: `enc` defaults to CKM_RSA_AES_KEY_WRAP as Key Vault does. */
  readonly request: { readonly apiVersion: string; readonly enc?: string | undefined; readonly nonce?: string | undefined };
}

/** `kid` without its version: Key Vault signs the versionless URL in `request.kid`. */
function versionless(kid: string): string {
  const m = /^(.*\/keys\/[^/]+)\/[0-9A-Za-z]+$/.exec(kid);
  if (!m) throw new KeystoreError('ERR_RELEASE_PAYLOAD', `"${kid.slice(0, 200)}" is not a versioned key identifier`);
  return m[1]!;
}

/** The payload, with fields in the order Key Vault writes them (alphabetical, as in the real MHSM response). */
export function buildReleasePayload(bundle: ReleasedKeyBundle, keyHsm: string, enc: ReleaseEnc, request: BuildReleaseInput['request']): ReleasePayload {
  const k = bundle.key;
  const a = bundle.attributes;
  const key = {
    ...(k.e === undefined ? {} : { e: k.e }),
    key_hsm: keyHsm,
    key_ops: [...k.key_ops],
    kid: k.kid,
    // The released key's kty has no -HSM suffix, as on a real Managed HSM.
    kty: k.kty.replace(/-HSM$/, ''),
    ...(k.n === undefined ? {} : { n: k.n }),
  };
  const attributes = { created: a.created, enabled: a.enabled, exportable: a.exportable, recoverableDays: a.recoverableDays, recoveryLevel: a.recoveryLevel, updated: a.updated };
  const policy = bundle.release_policy;
  return {
    request: { 'api-version': request.apiVersion, enc, kid: versionless(k.kid), ...(request.nonce === undefined ? {} : { nonce: request.nonce }) },
    response: {
      key: {
        attributes,
        key,
        ...(policy ? { release_policy: { contentType: policy.contentType, data: policy.data, immutable: policy.immutable } } : {}),
      },
    },
  };
}

/**
 * Key Vault's release response `{value: JWS}`: the material wrapped to the TEE key (`key_hsm`, per `enc`), in
 * the payload of an RS256 JWS whose header is `{alg, kid, x5c, x5t#S256}` with kid = x5t#S256 of the leaf.
 */
export async function buildReleaseResponse(input: BuildReleaseInput): Promise<{ value: string }> {
  const enc = parseReleaseEnc(input.request.enc);
  const keyHsm = wrapForRelease(input.material, input.teeKey, enc);
  const payload = buildReleasePayload(input.bundle, keyHsm, enc, input.request);
  const header = { alg: 'RS256', kid: input.signer.kid, x5c: input.signer.chain.map((der) => der.toString('base64')), 'x5t#S256': input.signer.kid };
  const value = await new CompactSign(Buffer.from(JSON.stringify(payload), 'utf8')).setProtectedHeader(header).sign(input.signer.privateKey);
  return { value };
}
