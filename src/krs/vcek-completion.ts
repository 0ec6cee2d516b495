import { AttestationError } from '../../attestation/errors.js';
import type { ParsedCertificate } from '../../attestation/snp/certificate.js';
import { type EndorsementFetcher, completeEndorsements } from '../../attestation/snp/endorsements.js';
import { KrsError } from './errors.js';

/**
 * The certificates with the VCEK fetched when the evidence came without one and a fetcher is configured. An
 * unreachable KDS is ERR_ENDORSEMENT_UNAVAILABLE (503: worth a retry); anything else is left for verification
 * itself to report, with its own code.
 */
export async function withVcek(snpReport: () => Buffer, certificates: ParsedCertificate[], endorsements: EndorsementFetcher | undefined): Promise<ParsedCertificate[]> {
  const hasLeaf = certificates.some((c) => c.subjectCN === 'SEV-VCEK' || c.subjectCN === 'SEV-VLEK');
  if (hasLeaf || !endorsements) return certificates;
  try {
    return (await completeEndorsements(snpReport(), certificates, endorsements)).certificates;
  } catch (e) {
    if (!(e instanceof AttestationError)) throw e;
    if (['ERR_KDS_OFFLINE', 'ERR_KDS_FETCH', 'ERR_KDS_RATE_LIMITED'].includes(e.code)) {
      throw new KrsError('ERR_ENDORSEMENT_UNAVAILABLE', undefined, { details: [{ code: e.code, message: e.message }], cause: e });
    }
    return certificates;
  }
}
