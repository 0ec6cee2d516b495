import type { ParsedCertificate } from '../../attestation/snp/certificate.js';
import type { EndorsementFetcher } from '../../attestation/snp/endorsements.js';
import type { TrustStore } from '../../attestation/snp/trust.js';
import { type SnpVerdict, verifySnpReport } from '../../attestation/snp/verify.js';
import { type AttestRequestBody, type DecodedAttestRequest, type DecodedData, decodeAttestRequest } from './attest-request.js';
import { checkBindings } from './bindings.js';
import { KrsError, type KrsErrorDetail } from './errors.js';
import type { ChallengeService } from './nonce.js';
import type { SigningKeyStore } from './signing-keys.js';
import { signAttestationToken } from './token.js';
import { chainsToUntrustedSimulator } from './simulated-diagnosis.js';
import { withVcek } from './vcek-completion.js';

export interface AttestServiceDeps {
  /** What evidence must chain to: the pinned AMD roots, plus simulated anchors only when explicitly trusted. */
  readonly trust: TrustStore;
  /** Untrusted simulated anchors, only to answer ERR_SIMULATED_NOT_TRUSTED instead of a bare chain failure. */
  readonly simulatedAnchors?: TrustStore;
  /** Fetches a VCEK the evidence lacks (AMD KDS). Absent: the evidence must carry it. */
  readonly endorsements?: EndorsementFetcher;
  readonly challenges: ChallengeService;
  readonly signingKeys: SigningKeyStore;
  /** Resolved per request: with port 0 the issuer is known only once the server listens. */
  readonly issuer: () => string;
  readonly tokenLifetimeSeconds: number;
  readonly requireFreshness: boolean;
  readonly clock: () => Date;
}

/** A successful attestation: the token and what the logs and metrics may say about it. */
export interface AttestOutcome {
  readonly token: string;
  readonly kid: string;
  readonly simulated: boolean;
  readonly fresh: boolean;
}

interface Freshness {
  readonly nonce: string;
  readonly expires: number;
}

/**
 * MAA-compatible SEV-SNP attestation, without HTTP:
 *  1. decode the request (400s);
 *  2. check the runtime-data nonce's MAC and expiry, before any expensive work;
 *  3. fetch a missing VCEK when a fetcher is configured;
 *  4. verify the report and chain against the trust store (403; its own code when it is simulated and untrusted);
 *  5. check REPORT_DATA and HOST_DATA bind the runtime and init-time data (403);
 *  6. consume the nonce (replays: 403), then sign the token with the active key.
 */
export class AttestService {
  private readonly deps: AttestServiceDeps;

  constructor(deps: AttestServiceDeps) {
    this.deps = deps;
  }

  async attest(body: AttestRequestBody): Promise<AttestOutcome> {
    const request = decodeAttestRequest(body);
    const freshness = this.checkFreshness(request.runtime);
    const now = this.deps.clock();
    const certificates = await this.complete(request);
    const verdict = verifySnpReport(request.report, { certificates, trust: this.deps.trust, now });
    if (!verdict.ok || !verdict.claims || !verdict.report) throw this.rejection(request, certificates, verdict, now);
    const unbound = checkBindings(verdict.report, request.runtime, request.initTime);
    if (unbound.length > 0) throw new KrsError(unbound[0]!.code, undefined, { details: unbound });
    if (freshness) this.deps.challenges.consume(freshness.nonce, freshness.expires);
    const key = await this.deps.signingKeys.active();
    const token = await signAttestationToken({
      claims: { ...verdict.claims, ...requestClaims(request), 'x-ms-ver': '1.0', 'x-zt4ai-fresh': freshness !== null, 'x-zt4ai-warnings': verdict.warnings.map((w) => w.code) },
      key,
      issuer: this.deps.issuer(),
      lifetimeSeconds: this.deps.tokenLifetimeSeconds,
      now: this.deps.clock(),
    });
    return { token, kid: key.kid, simulated: verdict.simulated, fresh: freshness !== null };
  }

  /** A `"nonce"` in JSON runtime data must be one of ours and unexpired; none at all is allowed unless required. */
  private checkFreshness(runtime: DecodedData): Freshness | null {
    const nonce = runtime.json?.nonce;
    if (nonce === undefined) {
      if (this.deps.requireFreshness) throw new KrsError('ERR_NONCE_REQUIRED');
      return null;
    }
    if (typeof nonce !== 'string') throw new KrsError('ERR_NONCE_INVALID', 'the "nonce" in runtimeData must be the string POST /attest/challenge returned');
    return { nonce, expires: this.deps.challenges.verify(nonce) };
  }

  private complete(request: DecodedAttestRequest): Promise<ParsedCertificate[]> {
    return withVcek(() => request.report, request.certificates, this.deps.endorsements);
  }

  private rejection(request: DecodedAttestRequest, certificates: ParsedCertificate[], verdict: SnpVerdict, now: Date): KrsError {
    const details: KrsErrorDetail[] = verdict.errors.map((e) => ({ code: e.code, message: e.message }));
    if (verdict.report) details.push(...checkBindings(verdict.report, request.runtime, request.initTime));
    if (chainsToUntrustedSimulator(request.report, certificates, this.deps.simulatedAnchors, now)) {
      return new KrsError('ERR_SIMULATED_NOT_TRUSTED', undefined, { details });
    }
    return new KrsError('ERR_EVIDENCE_REJECTED', undefined, { details });
  }
}

/** What the request adds to the token: MAA's x-ms-runtime / x-ms-inittime for JSON, raw bytes for Binary. */
function requestClaims(r: DecodedAttestRequest): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  if (r.runtime.json) claims['x-ms-runtime'] = r.runtime.json;
  else claims['x-zt4ai-runtime-data'] = r.runtime.bytes.toString('base64url');
  if (r.initTime?.json) claims['x-ms-inittime'] = r.initTime.json;
  else if (r.initTime) claims['x-zt4ai-inittime-data'] = r.initTime.bytes.toString('base64url');
  if (r.nonce !== null) claims.nonce = r.nonce;
  return claims;
}
