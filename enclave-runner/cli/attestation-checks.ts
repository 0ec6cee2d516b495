import { createHash } from 'node:crypto';
import { type JSONWebKeySet, createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { type ReleasePolicy, evaluateReleasePolicy } from '../../attestation/policy/index.js';
import { loadPemBundle } from '../../attestation/snp/certificate.js';
import { type TrustStore, amdTrustStore, trustAnchorsFromPem } from '../../attestation/snp/trust.js';
import { verifySnpReport } from '../../attestation/snp/verify.js';
import type { RunnerAttestation } from '../serve/attestation.js';

/** One client-side check: ok, failed, or skipped (null: could not be made, e.g. the KRS is unreachable). */
export interface VerifyCheck {
  readonly name: 'evidence' | 'report-data' | 'token-binding' | 'token-signature' | 'policy' | 'endpoint' | 'status';
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

/**
 * The client's own checks of a runner's `/attestation`: the SNP report and its chain (attestation/snp), that
 * REPORT_DATA commits to the runtime data, that the token speaks of this very report, the token's signature
 * (the issuer's JWKS), the release policy over the verified claims, and that the endpoint reached is the
 * attested one. Every check is made and listed; nothing is trusted that a failed check depends on.
 */
export async function checkAttestation(i: AttestationCheckInput): Promise<VerifyCheck[]> {
  const checks: VerifyCheck[] = [];
  const a = i.attestation;
  const report = Buffer.from(a.report, 'base64url');
  const runtimeBytes = Buffer.from(a.runtimeData, 'base64url');
  let trust: TrustStore | undefined;
  try {
    trust = i.simRootsPem === null ? undefined : [...amdTrustStore(), ...trustAnchorsFromPem(i.simRootsPem, { simulated: true })];
    const verdict = verifySnpReport(report, { certificates: a.certificates ? loadPemBundle(a.certificates) : [], ...(trust ? { trust } : {}), ...(i.now ? { now: i.now } : {}) });
    const claims = verdict.ok ? verdict.claims : null;
    checks.push({
      name: 'evidence',
      ok: verdict.ok,
      detail: verdict.ok ? `SNP report signed by a ${verdict.product} ${verdict.signer}${verdict.simulated ? ' under the SIMULATED root' : ''}; measurement ${claims?.['x-ms-sevsnpvm-launchmeasurement'].slice(0, 16)}...` : verdict.errors.map((e) => e.code).join(', '),
    });
    const expected = Buffer.concat([createHash('sha256').update(runtimeBytes).digest(), Buffer.alloc(32)]);
    const bound = verdict.report?.reportData.equals(expected) === true;
    const runtime = parseRuntime(runtimeBytes);
    checks.push({
      name: 'report-data',
      ok: bound && runtime !== null,
      detail: !bound ? 'REPORT_DATA is not SHA-256(runtime data) ‖ zeros' : runtime === null ? 'the runtime data is not a JSON object with the TEE key' : `REPORT_DATA = SHA-256(runtime data) ‖ zeros; TEE key ${String((runtime.keys as Array<{ kid?: unknown }>)[0]?.kid).slice(0, 12)}..., configuration ${String(runtime['x-zt4ai-config'])}`,
    });
    const tokenClaims = await tokenChecks(i, verdict.report?.reportData ?? null, claims?.['x-ms-sevsnpvm-launchmeasurement'] ?? null, checks);
    if (i.policy) checks.push(policyCheck(i.policy, claims && bound && runtime ? { ...(tokenClaims ?? {}), ...claims, 'x-ms-runtime': runtime } : null, tokenIssuer(a.token)));
    checks.push(endpointCheck(i.url, i.peerSpkiSha256, runtime));
  } catch (e) {
    checks.push({ name: 'evidence', ok: false, detail: `the evidence cannot be read: ${(e as { code?: string }).code ?? (e as Error).message}` });
  }
  return checks;
}

function parseRuntime(bytes: Buffer): Record<string, unknown> | null {
  try {
    const doc = JSON.parse(bytes.toString('utf8')) as unknown;
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return null;
    const keys = (doc as { keys?: unknown }).keys;
    return Array.isArray(keys) && keys.length > 0 ? (doc as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function tokenIssuer(token: string): string | null {
  try {
    const iss = decodeJwt(token).iss;
    return typeof iss === 'string' ? iss : null;
  } catch {
    return null;
  }
}

/** The token must speak of this report; its signature must verify with its issuer's JWKS. Returns its claims when verified. */
async function tokenChecks(i: AttestationCheckInput, reportData: Buffer | null, measurement: string | null, checks: VerifyCheck[]): Promise<Record<string, unknown> | null> {
  let unverified: Record<string, unknown>;
  try {
    unverified = decodeJwt(i.attestation.token) as Record<string, unknown>;
  } catch {
    checks.push({ name: 'token-binding', ok: false, detail: 'the token is not a JWT' });
    return null;
  }
  const sameReport = reportData !== null && unverified['x-ms-sevsnpvm-reportdata'] === reportData.toString('hex') && measurement !== null && unverified['x-ms-sevsnpvm-launchmeasurement'] === measurement;
  checks.push({ name: 'token-binding', ok: sameReport, detail: sameReport ? "the token's REPORT_DATA and measurement are the report's" : 'the token was not issued for this report (REPORT_DATA or measurement differ)' });
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

function policyCheck(policy: ReleasePolicy, claims: object | null, issuer: string | null): VerifyCheck {
  if (!claims) return { name: 'policy', ok: false, detail: 'not evaluated: the evidence did not verify' };
  const d = evaluateReleasePolicy(policy, claims, issuer === null ? {} : { issuer });
  return { name: 'policy', ok: d.allowed, detail: d.allowed ? 'the release policy allows this runner' : d.failures.map((f) => `${f.claim} ${f.operator} ${JSON.stringify(f.expected)}`).join('; ') || 'the release policy denies this runner' };
}

function endpointCheck(url: URL, peer: string | null, runtime: Record<string, unknown> | null): VerifyCheck {
  const endpoint = (runtime?.['x-zt4ai-endpoint'] ?? null) as { 'tls-spki-sha256'?: unknown; listen?: unknown } | null;
  if (url.protocol === 'https:') {
    const pinned = typeof endpoint?.['tls-spki-sha256'] === 'string' ? endpoint['tls-spki-sha256'] : null;
    const ok = pinned !== null && peer !== null && pinned === peer;
    return { name: 'endpoint', ok, detail: ok ? `the TLS key served is the attested one (SPKI SHA-256 ${peer.slice(0, 16)}...)` : pinned === null ? 'the runtime data binds no TLS key' : `the TLS key served (${peer ?? 'none'}) is not the attested one (${pinned})` };
  }
  const listen = typeof endpoint?.listen === 'string' ? endpoint.listen : null;
  return { name: 'endpoint', ok: null, detail: `plain HTTP: no channel binding (the runner attested its listen URL ${listen ?? 'none'}); use TLS beyond loopback` };
}
