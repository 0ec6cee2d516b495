import { timingSafeEqual } from 'node:crypto';
import { compactVerify, errors as joseErrors } from 'jose';
import { KeystoreError } from '../keystore/errors.js';
import { type KeyHsm, parseKeyHsm } from '../wrap/key-hsm.js';
import { type ReleasePayload, parseReleasePayload } from './payload.js';
import { x5tS256 } from './signer.js';
import { type ReleaseTrust, parseX5c, sha256Hex, verifyX5cChain } from './x5c-chain.js';

export interface VerifyReleaseOptions extends ReleaseTrust {
  /** Verification time for the chain (default now); tests on recorded responses fix it. */
  readonly now?: Date;
  /** The KRS or vault host name the signing certificate must be valid for. */
  readonly expectedHost?: string;
  /** The key asked for: its versionless or versioned URL (`https://<vault>/keys/<name>[/<version>]`). */
  readonly expectedKid?: string;
  /** The nonce sent in the release request; the signed request must carry the same. */
  readonly expectedNonce?: string;
}

/** A release response whose signature, chain and payload shape were verified; the key is still wrapped. */
export interface VerifiedRelease {
  readonly payload: ReleasePayload;
  readonly keyHsm: KeyHsm;
  /** The signing certificate: subject and SHA-256 fingerprint (hex). */
  readonly signer: { readonly subject: string; readonly sha256: string };
}

export function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

function decodeHeader(jws: string): Record<string, unknown> {
  const parts = jws.split('.');
  if (parts.length !== 3) throw new KeystoreError('ERR_RELEASE_MALFORMED', 'the release value is not a compact JWS (three dot-separated parts)');
  try {
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as unknown;
    if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new Error('not an object');
    return header as Record<string, unknown>;
  } catch {
    throw new KeystoreError('ERR_RELEASE_MALFORMED', 'the JWS header is not base64url JSON');
  }
}

function jwsOf(value: string | { value?: unknown }): string {
  const jws = typeof value === 'string' ? value : value?.value;
  if (typeof jws !== 'string') throw new KeystoreError('ERR_RELEASE_MALFORMED', 'the release response has no string "value"');
  return jws.trim();
}

/**
 * Verifies Key Vault's release response `{value: JWS}` (or the bare JWS): RS256 only; kid and x5t#S256 both
 * equal base64url(SHA-256(x5c[0])); x5c chains to a trusted root or pinned certificate and is valid at `now`;
 * the signature verifies with x5c[0]; the payload has Key Vault's shape and names the expected key and nonce.
 */
export async function verifyReleaseResponse(value: string | { value?: unknown }, options: VerifyReleaseOptions): Promise<VerifiedRelease> {
  const jws = jwsOf(value);
  const header = decodeHeader(jws);
  if (header.alg !== 'RS256') throw new KeystoreError('ERR_RELEASE_ALG', `the JWS alg is ${JSON.stringify(header.alg)?.slice(0, 20)}, not RS256`);
  const chain = parseX5c(header.x5c);
  const thumb = x5tS256(chain[0]!.raw);
  for (const name of ['kid', 'x5t#S256']) {
    const v = header[name];
    if (typeof v !== 'string' || !sameString(v, thumb)) throw new KeystoreError('ERR_RELEASE_KID', `the JWS header's ${name} is not the SHA-256 thumbprint of x5c[0]`);
  }
  const leaf = verifyX5cChain(chain, options, options.now ?? new Date(), options.expectedHost);
  let payloadBytes: Uint8Array;
  try {
    ({ payload: payloadBytes } = await compactVerify(jws, leaf.publicKey, { algorithms: ['RS256'] }));
  } catch (e) {
    if (e instanceof joseErrors.JWSSignatureVerificationFailed) throw new KeystoreError('ERR_RELEASE_SIGNATURE', 'the release JWS signature does not verify with x5c[0]');
    throw new KeystoreError('ERR_RELEASE_MALFORMED', `the release JWS is malformed (${e instanceof Error ? e.name : 'error'})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payloadBytes).toString('utf8'));
  } catch {
    throw new KeystoreError('ERR_RELEASE_MALFORMED', 'the JWS payload is not JSON');
  }
  const payload = parseReleasePayload(json);
  checkExpectations(payload, options);
  const keyHsm = parseKeyHsm(payload.response.key.key.key_hsm);
  if (keyHsm.header.enc !== payload.request.enc) throw new KeystoreError('ERR_RELEASE_PAYLOAD', `key_hsm was wrapped with ${keyHsm.header.enc} but the request says ${payload.request.enc}`);
  return { payload, keyHsm, signer: { subject: leaf.subject, sha256: sha256Hex(leaf.raw) } };
}

function checkExpectations(payload: ReleasePayload, options: VerifyReleaseOptions): void {
  const kid = payload.response.key.key.kid;
  if (options.expectedKid !== undefined) {
    const want = options.expectedKid.replace(/\/+$/, '');
    const ok = kid === want || kid.startsWith(`${want}/`);
    if (!ok) throw new KeystoreError('ERR_RELEASE_KEY_ID', `the response releases ${kid.slice(0, 200)}, not ${want.slice(0, 200)}`);
    if (!(kid === payload.request.kid || kid.startsWith(`${payload.request.kid}/`))) throw new KeystoreError('ERR_RELEASE_KEY_ID', 'the released key is not the key of the signed request');
  }
  if (options.expectedNonce !== undefined && (payload.request.nonce === undefined || !sameString(payload.request.nonce, options.expectedNonce))) {
    throw new KeystoreError('ERR_RELEASE_NONCE', 'the signed request does not carry the nonce that was sent');
  }
}
