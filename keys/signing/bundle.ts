import { KeyError } from '../errors.js';
import { BUNDLE_MEDIA_TYPE, INTOTO_PAYLOAD_TYPE } from './oms-types.js';

/** What identifies the signer inside a bundle. */
export type VerificationMaterial =
  | { readonly kind: 'publicKey'; readonly hint?: string; readonly rawBytes?: Buffer }
  | { readonly kind: 'chain'; readonly certificates: readonly Buffer[] }
  | { readonly kind: 'certificate'; readonly certificate: Buffer };

/** A bundle's parts as this verifier uses them (bytes decoded). */
export interface ParsedBundle {
  readonly mediaType: string;
  readonly material: VerificationMaterial;
  readonly payloadType: string;
  readonly payload: Buffer;
  readonly signatures: ReadonlyArray<{ readonly sig: Buffer }>;
  /** The JSON object, for @sigstore/verify in keyless mode. */
  readonly json: Record<string, unknown>;
}

/** Builds a Sigstore bundle v0.3 around a signed DSSE envelope (the shape model_signing writes). */
export function buildBundle(payload: Buffer, signature: Buffer, material: { hint: string } | { chain: readonly Buffer[] }): Record<string, unknown> {
  const verificationMaterial =
    'hint' in material
      ? { publicKey: { hint: material.hint }, tlogEntries: [] }
      : { x509CertificateChain: { certificates: material.chain.map((c) => ({ rawBytes: c.toString('base64') })) }, tlogEntries: [] };
  return {
    mediaType: BUNDLE_MEDIA_TYPE,
    verificationMaterial,
    dsseEnvelope: { payload: payload.toString('base64'), payloadType: INTOTO_PAYLOAD_TYPE, signatures: [{ sig: signature.toString('base64'), keyid: '' }] },
  };
}

/** Parses bundle JSON text. Media type, payload type and signature count are checked by the verifier. */
export function parseBundle(text: string | Buffer): ParsedBundle {
  let json: unknown;
  try {
    json = JSON.parse(text.toString());
  } catch (cause) {
    throw new KeyError('ERR_SIG_BUNDLE_MALFORMED', 'the signature file is not JSON', { cause });
  }
  const b = obj(json, 'bundle');
  const env = obj(b.dsseEnvelope, 'dsseEnvelope');
  if (!Array.isArray(env.signatures)) throw new KeyError('ERR_SIG_BUNDLE_MALFORMED', 'dsseEnvelope.signatures is not a list');
  return {
    mediaType: typeof b.mediaType === 'string' ? b.mediaType : '',
    material: parseMaterial(obj(b.verificationMaterial, 'verificationMaterial')),
    payloadType: typeof env.payloadType === 'string' ? env.payloadType : '',
    payload: b64(env.payload, 'dsseEnvelope.payload'),
    signatures: env.signatures.map((s, i) => ({ sig: b64(obj(s, `signatures[${i}]`).sig, `signatures[${i}].sig`) })),
    json: b,
  };
}

function parseMaterial(m: Record<string, unknown>): VerificationMaterial {
  if (m.publicKey !== undefined) {
    const pk = obj(m.publicKey, 'publicKey');
    const hint = typeof pk.hint === 'string' ? pk.hint : undefined;
    const rawBytes = pk.rawBytes === undefined ? undefined : b64(pk.rawBytes, 'publicKey.rawBytes');
    return { kind: 'publicKey', ...(hint === undefined ? {} : { hint }), ...(rawBytes === undefined ? {} : { rawBytes }) };
  }
  if (m.x509CertificateChain !== undefined) {
    const certs = obj(m.x509CertificateChain, 'x509CertificateChain').certificates;
    if (!Array.isArray(certs) || certs.length === 0) throw new KeyError('ERR_SIG_BUNDLE_MALFORMED', 'x509CertificateChain.certificates is empty');
    return { kind: 'chain', certificates: certs.map((c, i) => b64(obj(c, `certificates[${i}]`).rawBytes, `certificates[${i}].rawBytes`)) };
  }
  if (m.certificate !== undefined) return { kind: 'certificate', certificate: b64(obj(m.certificate, 'certificate').rawBytes, 'certificate.rawBytes') };
  throw new KeyError('ERR_SIG_BUNDLE_MALFORMED', 'verificationMaterial has no publicKey, x509CertificateChain or certificate');
}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new KeyError('ERR_SIG_BUNDLE_MALFORMED', `${what} is missing or not an object`);
  return v as Record<string, unknown>;
}

function b64(v: unknown, what: string): Buffer {
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(v)) throw new KeyError('ERR_SIG_BUNDLE_MALFORMED', `${what} is not base64`);
  return Buffer.from(v, 'base64');
}
