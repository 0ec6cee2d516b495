import { KeystoreError } from '../keystore/errors.js';
import { type ReleaseEnc, isReleaseEnc } from '../wrap/enc.js';

/** The signed payload of Key Vault's release response (azure-protocols.md §3.2, the real MHSM vector). */
export interface ReleasePayload {
  readonly request: { readonly 'api-version': string; readonly enc: ReleaseEnc; readonly kid: string; readonly nonce?: string };
  readonly response: {
    readonly key: {
      readonly attributes: {
        readonly created: number;
        readonly enabled: boolean;
        readonly exportable: boolean;
        readonly recoverableDays: number;
        readonly recoveryLevel: string;
        readonly updated: number;
      };
      readonly key: { readonly kid: string; readonly kty: string; readonly key_ops: readonly string[]; readonly n?: string; readonly e?: string; readonly key_hsm: string };
      readonly release_policy?: { readonly contentType: string; readonly data: string; readonly immutable?: boolean };
    };
  };
}

type Obj = Record<string, unknown>;

function bad(where: string): KeystoreError {
  return new KeystoreError('ERR_RELEASE_PAYLOAD', `the release payload's ${where} is missing or has the wrong type`);
}

function obj(v: unknown, where: string): Obj {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw bad(where);
  return v as Obj;
}

function str(o: Obj, k: string, where: string, optional = false): void {
  if (optional && o[k] === undefined) return;
  if (typeof o[k] !== 'string') throw bad(`${where}.${k}`);
}

/**
 * Checks the payload's shape field by field (unknown extra fields are allowed: Key Vault adds some across
 * api-versions). Attributes are checked only when present, as older api-versions lack some of them.
 */
export function parseReleasePayload(json: unknown): ReleasePayload {
  const root = obj(json, 'root');
  const request = obj(root.request, 'request');
  str(request, 'api-version', 'request');
  str(request, 'kid', 'request');
  str(request, 'nonce', 'request', true);
  if (!isReleaseEnc(request.enc)) throw bad('request.enc');
  const key = obj(obj(root.response, 'response').key, 'response.key');
  const attributes = obj(key.attributes, 'response.key.attributes');
  for (const k of ['created', 'updated', 'recoverableDays']) if (attributes[k] !== undefined && typeof attributes[k] !== 'number') throw bad(`response.key.attributes.${k}`);
  for (const k of ['enabled', 'exportable']) if (attributes[k] !== undefined && typeof attributes[k] !== 'boolean') throw bad(`response.key.attributes.${k}`);
  const jwk = obj(key.key, 'response.key.key');
  for (const k of ['kid', 'kty', 'key_hsm']) str(jwk, k, 'response.key.key');
  for (const k of ['n', 'e']) str(jwk, k, 'response.key.key', true);
  if (!Array.isArray(jwk.key_ops) || !jwk.key_ops.every((op) => typeof op === 'string')) throw bad('response.key.key.key_ops');
  if (key.release_policy !== undefined) {
    const rp = obj(key.release_policy, 'response.key.release_policy');
    str(rp, 'contentType', 'response.key.release_policy');
    str(rp, 'data', 'response.key.release_policy');
  }
  return root as unknown as ReleasePayload;
}
