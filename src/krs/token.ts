import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import type { SigningKey } from './signing-key-file.js';

export interface TokenRequest {
  /** Attestation claims; registered claims (iss, iat, nbf, exp, jti) are set here and cannot be overridden. */
  readonly claims: Record<string, unknown>;
  readonly key: SigningKey;
  /** No trailing slash; `jku` is `<issuer>/certs`. */
  readonly issuer: string;
  readonly lifetimeSeconds: number;
  readonly now: Date;
}

const REGISTERED = new Set(['iss', 'sub', 'aud', 'iat', 'nbf', 'exp', 'jti']);

/**
 * Signs an attestation token shaped like MAA's (azure-protocols.md §1.3): RS256, header
 * `{alg, jku: <iss>/certs, kid, typ: "JWT"}`, `nbf` = `iat`, `jti` 64 hex characters.
 */
export async function signAttestationToken(req: TokenRequest): Promise<string> {
  const iat = Math.floor(req.now.getTime() / 1000);
  const payload = Object.fromEntries(Object.entries(req.claims).filter(([name]) => !REGISTERED.has(name)));
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'RS256', jku: `${req.issuer}/certs`, kid: req.key.kid, typ: 'JWT' })
    .setIssuer(req.issuer)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + req.lifetimeSeconds)
    .setJti(randomBytes(32).toString('hex'))
    .sign(req.key.privateKey);
}
