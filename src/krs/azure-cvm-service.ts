import { type HclVerdict, type PcrValues, type TpmQuote, parseHclReport, parsePcrValues, quoteBindingNonce, verifyHclEvidence } from '../../attestation/azure/index.js';
import { AttestationError } from '../../attestation/errors.js';
import { type ParsedCertificate, loadCertificates } from '../../attestation/snp/certificate.js';
import type { AttestOutcome, AttestServiceDeps } from './attest-service.js';
import { decodeBase64Url } from './base64url.js';
import type { CvmComplianceStatus } from './config.js';
import { KrsError, type KrsErrorDetail } from './errors.js';
import { signAttestationToken } from './token.js';
import { withVcek } from './vcek-completion.js';
import { chainsToUntrustedSimulator } from './simulated-diagnosis.js';

/** The body of POST /attest/AzureCvm, already checked against its JSON schema (routes/schemas.ts). */
export interface AzureCvmRequestBody {
  /** base64url of NV index 0x01400001 (the HCL report, padding included or not). */
  readonly hclReport: string;
  /** base64url of PEM certificates (VCEK, then ASK and ARK) or of Azure THIM JSON. */
  readonly certificates?: string;
  /** TPM2_Quote by the AK: TPMS_ATTEST and TPMT_SIGNATURE (or bare RSASSA), each base64url. */
  readonly quote: { readonly message: string; readonly signature: string };
  /** `{"<index>": "<hex>"}`: the values of the PCRs the quote covers. */
  readonly pcrs: Readonly<Record<string, string>>;
  /** The challenge from POST /attest/challenge, exactly as issued. */
  readonly nonce: string;
  /** The guest's own runtime data (the runner: its TEE key and config digest), a JSON object. */
  readonly runtimeData: { readonly data: string; readonly dataType: 'JSON' };
}

/** The SevSnpVm service's dependencies, without its freshness switch (this route always needs the challenge). */
export type AzureCvmServiceDeps = Omit<AttestServiceDeps, 'requireFreshness'> & {
  /** `x-ms-isolation-tee.x-ms-compliance-status` of the tokens (azureCvm.complianceStatus). */
  readonly complianceStatus: CvmComplianceStatus;
};

interface DecodedCvmRequest {
  readonly hcl: Buffer;
  readonly certificates: ParsedCertificate[];
  readonly quote: TpmQuote;
  readonly pcrs: PcrValues;
  readonly nonce: string;
  readonly runtimeBytes: Buffer;
  readonly runtime: Record<string, unknown>;
}

/**
 * Azure confidential-VM attestation (HCL report + TPM quote), without HTTP; the chain of trustee's
 * az-snp-vtpm verifier:
 *  1. decode the request (400s);
 *  2. the challenge nonce carries our MAC and has not expired (403), before any expensive work;
 *  3. fetch a missing VCEK when a fetcher is configured;
 *  4. verifyHclEvidence: the embedded SNP report verifies with the trust store at VMPL 0, REPORT_DATA binds
 *     the runtime claims, the AK comes from them, and the quote verifies with it: signature, PCR digest, and
 *     extraData == quoteBindingNonce(nonce, runtimeData), which binds both the challenge and the runtime data;
 *  5. consume the nonce (replays: 403) and sign a token in the shape of MAA's confidential-VM token.
 */
export class AzureCvmService {
  private readonly deps: AzureCvmServiceDeps;

  constructor(deps: AzureCvmServiceDeps) {
    this.deps = deps;
  }

  async attest(body: AzureCvmRequestBody): Promise<AttestOutcome> {
    const request = decodeCvmRequest(body);
    const expires = this.deps.challenges.verify(request.nonce);
    const now = this.deps.clock();
    const certificates = await this.complete(request);
    const verdict = verifyHclEvidence(request.hcl, {
      certificates,
      trust: this.deps.trust,
      now,
      tpm: { quote: request.quote, nonce: quoteBindingNonce(request.nonce, request.runtimeBytes), pcrs: request.pcrs },
      requireQuote: true,
      runtimeData: request.runtime,
    });
    if (!verdict.ok || !verdict.claims) throw this.rejection(verdict, certificates, now);
    this.deps.challenges.consume(request.nonce, expires);
    const claims = verdict.claims;
    const tee = { ...claims['x-ms-isolation-tee'], 'x-ms-compliance-status': this.deps.complianceStatus };
    const key = await this.deps.signingKeys.active();
    const token = await signAttestationToken({
      claims: { ...claims, 'x-ms-isolation-tee': tee, 'x-ms-ver': '1.0', 'x-zt4ai-fresh': true, 'x-zt4ai-warnings': verdict.warnings.map((w) => w.code) },
      key,
      issuer: this.deps.issuer(),
      lifetimeSeconds: this.deps.tokenLifetimeSeconds,
      now: this.deps.clock(),
    });
    return { token, kid: key.kid, simulated: claims['x-zt4ai-simulated'], fresh: true };
  }

  private complete(request: DecodedCvmRequest): Promise<ParsedCertificate[]> {
    // An unparseable HCL report is reported by verification itself, with its own code.
    return withVcek(() => parseHclReport(request.hcl).snpReport, request.certificates, this.deps.endorsements);
  }

  /** The code says the first thing to fix: untrusted simulator, then a quote for another nonce, else the details. */
  private rejection(verdict: HclVerdict, certificates: ParsedCertificate[], now: Date): KrsError {
    const details: KrsErrorDetail[] = verdict.errors.map((e) => ({ code: e.code, message: e.message }));
    if (chainsToUntrustedSimulator(verdict.hcl?.snpReport, certificates, this.deps.simulatedAnchors, now)) {
      return new KrsError('ERR_SIMULATED_NOT_TRUSTED', undefined, { details });
    }
    if (details.length > 0 && details.every((d) => d.code === 'ERR_TPM_QUOTE_NONCE')) return new KrsError('ERR_QUOTE_NONCE', undefined, { details });
    return new KrsError('ERR_HCL_EVIDENCE_REJECTED', undefined, { details });
  }
}

/** Every failure is a 400 with its own code; the evidence itself is judged by verifyHclEvidence (403s). */
export function decodeCvmRequest(body: AzureCvmRequestBody): DecodedCvmRequest {
  const certificates = body.certificates === undefined ? [] : parseCertificates(decodeBase64Url(body.certificates, 'certificates'));
  const runtimeBytes = decodeBase64Url(body.runtimeData.data, 'runtimeData.data');
  return {
    hcl: decodeBase64Url(body.hclReport, 'hclReport'),
    certificates,
    quote: { message: decodeBase64Url(body.quote.message, 'quote.message'), signature: decodeBase64Url(body.quote.signature, 'quote.signature') },
    pcrs: parsePcrs(body.pcrs),
    nonce: body.nonce,
    runtimeBytes,
    runtime: parseRuntime(runtimeBytes),
  };
}

export function parseCertificates(bytes: Buffer): ParsedCertificate[] {
  try {
    return loadCertificates(bytes);
  } catch (e) {
    if (!(e instanceof AttestationError)) throw e;
    throw new KrsError('ERR_INVALID_CVM_CERTIFICATES', undefined, { details: [{ code: e.code, message: e.message }], cause: e });
  }
}

function parsePcrs(pcrs: Readonly<Record<string, string>>): PcrValues {
  try {
    return parsePcrValues(pcrs);
  } catch (e) {
    if (!(e instanceof AttestationError)) throw e;
    throw new KrsError('ERR_INVALID_PCRS', undefined, { details: [{ code: e.code, message: e.message }], cause: e });
  }
}

/** Strict UTF-8 JSON object: a lenient decoder would read other bytes than the quote binds. */
function parseRuntime(bytes: Buffer): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    doc = undefined;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    const why = `runtimeData.data ${doc === undefined ? 'is not UTF-8 JSON' : 'is JSON but not an object'}`;
    throw new KrsError('ERR_INVALID_RUNTIME_DATA', why, { details: [{ code: 'ERR_INVALID_RUNTIME_DATA', message: why }] });
  }
  return doc as Record<string, unknown>;
}
