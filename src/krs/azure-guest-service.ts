import type { X509Certificate } from 'node:crypto';
import { type AzureGuestRequest, type AzureGuestVerdict, parseAttestationInfo, verifyAzureGuest } from '../../attestation/azure/index.js';
import { AttestationError } from '../../attestation/errors.js';
import type { ParsedCertificate } from '../../attestation/snp/certificate.js';
import { sealMaaToken } from '../../keys/wrap/maa-envelope.js';
import type { AttestOutcome } from './attest-service.js';
import { type AzureCvmServiceDeps, parseCertificates } from './azure-cvm-service.js';
import { KrsError, type KrsErrorDetail } from './errors.js';
import { signAttestationToken } from './token.js';
import { withVcek } from './vcek-completion.js';
import { chainsToUntrustedSimulator } from './simulated-diagnosis.js';

/** The body of POST /attest/AzureGuest, as Microsoft's guest attestation library sends it. */
export interface AzureGuestRequestBody {
  /** base64url of the AttestationInfo JSON. */
  readonly AttestationInfo: string;
}

/** AzureCvm's dependencies without the challenges (AzureGuest has none), with the vTPM CAs for the AK certificate. */
export type AzureGuestServiceDeps = Omit<AzureCvmServiceDeps, 'challenges'> & {
  readonly akCertAnchors?: readonly X509Certificate[];
};

/** The token, and the envelope MAA answers instead of it: the token encrypted to the vTPM's ephemeral key. */
export interface AzureGuestOutcome extends AttestOutcome {
  readonly envelope: string;
}

/**
 * MAA's AzureGuest flow, without HTTP: decode AttestationInfo (400s), fetch a missing VCEK when configured,
 * verifyAzureGuest (403 with every failed check), sign a token in the shape of MAA's confidential-VM token, and
 * encrypt it to the certified, PCR-bound ephemeral key (sealMaaToken). The protocol has no verifier nonce: the
 * answer is useful only to the TPM that holds the key, in the attested PCR state, so tokens say
 * `x-zt4ai-fresh: false` and a release policy that needs a challenge must use POST /attest/AzureCvm.
 */
export class AzureGuestService {
  private readonly deps: AzureGuestServiceDeps;

  constructor(deps: AzureGuestServiceDeps) {
    this.deps = deps;
  }

  async attest(body: AzureGuestRequestBody): Promise<AzureGuestOutcome> {
    const request = decodeGuestRequest(body);
    const now = this.deps.clock();
    const certificates = await withVcek(() => request.isolation.snpReport, request.certificates, this.deps.endorsements);
    const verdict = verifyAzureGuest(request, { certificates, trust: this.deps.trust, now, ...(this.deps.akCertAnchors ? { akCertAnchors: this.deps.akCertAnchors } : {}) });
    if (!verdict.ok || !verdict.claims || !verdict.encryptionKey) throw this.rejection(verdict, request, certificates, now);
    const claims = verdict.claims;
    const key = await this.deps.signingKeys.active();
    const token = await signAttestationToken({
      claims: {
        ...claims,
        'x-ms-isolation-tee': { ...claims['x-ms-isolation-tee'], 'x-ms-compliance-status': this.deps.complianceStatus },
        'x-ms-ver': '1.0',
        'x-zt4ai-fresh': false,
        'x-zt4ai-warnings': verdict.warnings.map((w) => w.code),
      },
      key,
      issuer: this.deps.issuer(),
      lifetimeSeconds: this.deps.tokenLifetimeSeconds,
      now: this.deps.clock(),
    });
    return { token, kid: key.kid, simulated: claims['x-zt4ai-simulated'], fresh: false, envelope: sealMaaToken(token, verdict.encryptionKey) };
  }

  /** The code says the first thing to fix: an untrusted simulator, else every failed check. */
  private rejection(verdict: AzureGuestVerdict, request: DecodedGuestRequest, certificates: ParsedCertificate[], now: Date): KrsError {
    const details: KrsErrorDetail[] = verdict.errors.map((e) => ({ code: e.code, message: e.message }));
    if (chainsToUntrustedSimulator(request.isolation.snpReport, certificates, this.deps.simulatedAnchors, now)) {
      return new KrsError('ERR_SIMULATED_NOT_TRUSTED', undefined, { details });
    }
    return new KrsError('ERR_AZURE_GUEST_REJECTED', undefined, { details });
  }
}

type DecodedGuestRequest = AzureGuestRequest & { readonly certificates: ParsedCertificate[] };

/** AttestationInfo and its VcekCertChain, decoded; a malformed request is a 400 naming the field. */
function decodeGuestRequest(body: AzureGuestRequestBody): DecodedGuestRequest {
  let request: AzureGuestRequest;
  try {
    request = parseAttestationInfo(body.AttestationInfo);
  } catch (e) {
    if (!(e instanceof AttestationError)) throw e;
    const code = e.code === 'ERR_AZURE_GUEST_ISOLATION' ? 'ERR_AZURE_GUEST_ISOLATION' : 'ERR_AZURE_GUEST_MALFORMED';
    throw new KrsError(code, e.message, { details: [{ code: e.code, message: e.message }], cause: e });
  }
  const chain = request.isolation.vcekCertChain;
  return { ...request, certificates: chain.length === 0 ? [] : parseCertificates(chain) };
}
