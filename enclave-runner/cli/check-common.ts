import { type JSONWebKeySet, createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { type ReleasePolicy, evaluateReleasePolicy } from '../../attestation/policy/index.js';
import type { RunnerAttestation } from '../serve/attestation.js';

/**
 * One client-side check: ok, failed, or skipped (null: could not be made, e.g. the KRS is unreachable).
 * `quote`, `pcrs` and `runtime-data` are made for Azure vTPM evidence only.
 */
export interface VerifyCheck {
  readonly name: 'evidence' | 'report-data' | 'quote' | 'pcrs' | 'runtime-data' | 'token-binding' | 'token-signature' | 'policy' | 'endpoint' | 'status';
  readonly ok: boolean | null;
  readonly detail: string;
}

export interface AttestationCheckInput {
  readonly attestation: RunnerAttestation;
  /** The URL the client talks to, and the SPKI SHA-256 of the certificate it was served with (https). */
  readonly url: URL;
  readonly peerSpkiSha256: string | null;
  /** The simulator's roots (PEM), trusted besides AMD's only when given. */
  readonly simRootsPem: string | null;
  readonly policy: ReleasePolicy | null;
  /** The key service's JWKS for an issuer; null when it cannot be reached. */
  readonly jwks: (issuer: string) => Promise<JSONWebKeySet | null>;
  readonly now?: Date;
}

/** The runtime data as a JSON object with at least one key (the TEE key); null otherwise. */
export function parseRuntime(bytes: Buffer): Record<string, unknown> | null {
  try {
    const doc = JSON.parse(bytes.toString('utf8')) as unknown;
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return null;
    const keys = (doc as { keys?: unknown }).keys;
    return Array.isArray(keys) && keys.length > 0 ? (doc as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** "TEE key <kid>..., configuration <digest>", for details. */
export function describeRuntime(runtime: Record<string, unknown>): string {
  return `TEE key ${String((runtime.keys as Array<{ kid?: unknown }>)[0]?.kid).slice(0, 12)}..., configuration ${String(runtime['x-zt4ai-config'])}`;
}

export function tokenIssuer(token: string): string | null {
  try {
    const iss = decodeJwt(token).iss;
    return typeof iss === 'string' ? iss : null;
  } catch {
    return null;
  }
}

/** How the token must speak of the evidence (`holds` over its unverified claims), and what to say either way. */
export interface TokenBinding {
  readonly holds: (claims: Readonly<Record<string, unknown>>) => boolean;
  readonly ok: string;
  readonly failed: string;
}

/** The token must speak of this evidence; its signature must verify with its issuer's JWKS. Returns its claims when both hold. */
export async function tokenChecks(i: AttestationCheckInput, binding: TokenBinding, checks: VerifyCheck[]): Promise<Record<string, unknown> | null> {
  let unverified: Record<string, unknown>;
  try {
    unverified = decodeJwt(i.attestation.token) as Record<string, unknown>;
  } catch {
    checks.push({ name: 'token-binding', ok: false, detail: 'the token is not a JWT' });
    return null;
  }
  const sameReport = binding.holds(unverified);
  checks.push({ name: 'token-binding', ok: sameReport, detail: sameReport ? binding.ok : binding.failed });
  const iss = typeof unverified.iss === 'string' ? unverified.iss : null;
  if (!iss) {
    checks.push({ name: 'token-signature', ok: false, detail: 'the token names no issuer' });
    return null;
  }
  const jwks = await i.jwks(iss).catch(() => null);
  if (!jwks) {
    checks.push({ name: 'token-signature', ok: null, detail: `not checked: ${iss}/certs cannot be reached` });
    return null;
  }
  try {
    const { payload } = await jwtVerify(i.attestation.token, createLocalJWKSet(jwks), { issuer: iss, ...(i.now ? { currentDate: i.now } : {}) });
    checks.push({ name: 'token-signature', ok: true, detail: `signed by ${iss} (its JWKS)` });
    return sameReport ? (payload as Record<string, unknown>) : null;
  } catch (e) {
    checks.push({ name: 'token-signature', ok: false, detail: `does not verify with ${iss}/certs: ${(e as { code?: string }).code ?? (e as Error).message}` });
    return null;
  }
}

export function policyCheck(policy: ReleasePolicy, claims: object | null, issuer: string | null): VerifyCheck {
  if (!claims) return { name: 'policy', ok: false, detail: 'not evaluated: the evidence did not verify' };
  const d = evaluateReleasePolicy(policy, claims, issuer === null ? {} : { issuer });
  return { name: 'policy', ok: d.allowed, detail: d.allowed ? 'the release policy allows this runner' : d.failures.map((f) => `${f.claim} ${f.operator} ${JSON.stringify(f.expected)}`).join('; ') || 'the release policy denies this runner' };
}

export function endpointCheck(url: URL, peer: string | null, runtime: Record<string, unknown> | null): VerifyCheck {
  const endpoint = (runtime?.['x-zt4ai-endpoint'] ?? null) as { 'tls-spki-sha256'?: unknown; listen?: unknown } | null;
  if (url.protocol === 'https:') {
    const pinned = typeof endpoint?.['tls-spki-sha256'] === 'string' ? endpoint['tls-spki-sha256'] : null;
    const ok = pinned !== null && peer !== null && pinned === peer;
    return { name: 'endpoint', ok, detail: ok ? `the TLS key served is the attested one (SPKI SHA-256 ${peer.slice(0, 16)}...)` : pinned === null ? 'the runtime data binds no TLS key' : `the TLS key served (${peer ?? 'none'}) is not the attested one (${pinned})` };
  }
  const listen = typeof endpoint?.listen === 'string' ? endpoint.listen : null;
  const attested = listen !== null ? `its listen URL ${listen}` : typeof endpoint?.['tls-spki-sha256'] === 'string' ? 'a TLS key: verify its https URL' : 'no endpoint';
  return { name: 'endpoint', ok: null, detail: `plain HTTP: no channel binding (the runner attested ${attested}); use TLS beyond loopback` };
}
