import { type KeyObject, X509Certificate } from 'node:crypto';
import { AttestationError } from '../errors.js';
import type { VerifyWarning } from '../snp/warnings.js';

export interface AkCertCheck {
  /** True only when the certificate chains to a configured anchor and certifies the AK. */
  readonly verified: boolean;
  readonly subject: string | null;
  readonly errors: readonly AttestationError[];
  readonly warnings: readonly VerifyWarning[];
}

/**
 * The vTPM's AK certificate (NV index 0x01C101D0), which Microsoft's vTPM CA issues for the AK. It must be a
 * certificate for exactly the AK that signed the quote; with `anchors` it must also be issued and signed by one of them (configure
 * Microsoft's issuing CA, or every CA it may be) and be valid at `now`. Without anchors the chain is not
 * judged (WARN_AK_CERT_UNVERIFIED): the AK is then trusted through the SNP report alone, whose REPORT_DATA binds
 * HCLAkPub, which is the stronger of the two bindings.
 */
export function checkAkCertificate(der: Uint8Array, ak: KeyObject, anchors: readonly X509Certificate[] | undefined, now: Date): AkCertCheck {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch (cause) {
    return failed(new AttestationError('ERR_AK_CERT', 'TpmInfo.AikCert is not a DER X.509 certificate', { cause }), null);
  }
  const errors: AttestationError[] = [];
  if (!sameRsaKey(cert.publicKey, ak)) errors.push(new AttestationError('ERR_AK_CERT', `the AK certificate "${cert.subject.slice(0, 120)}" certifies another key than the AK that signed the quote`));
  if (!anchors || anchors.length === 0) {
    return { verified: false, subject: cert.subject, errors, warnings: [{ code: 'WARN_AK_CERT_UNVERIFIED', message: "no AK certificate anchors are configured: the vTPM's AK certificate was not checked against Microsoft's vTPM CA" }] };
  }
  errors.push(...chainErrors(cert, anchors, now));
  return { verified: errors.length === 0, subject: cert.subject, errors, warnings: [] };
}

/** Every configured certificate is an anchor: the AK certificate must be issued and signed by one of them. */
function chainErrors(leaf: X509Certificate, anchors: readonly X509Certificate[], now: Date): AttestationError[] {
  const errors: AttestationError[] = [];
  if (!validAt(leaf, now)) errors.push(new AttestationError('ERR_AK_CERT', `the AK certificate is not valid at ${now.toISOString()} (valid ${leaf.validFrom} to ${leaf.validTo})`));
  const issuer = anchors.find((a) => leaf.checkIssued(a) && leaf.verify(a.publicKey));
  if (!issuer) errors.push(new AttestationError('ERR_AK_CERT', `the AK certificate's issuer "${leaf.issuer.slice(0, 120)}" is none of the configured AK certificate anchors (or its signature does not verify with it)`));
  else if (!validAt(issuer, now)) errors.push(new AttestationError('ERR_AK_CERT', `the anchor "${issuer.subject.slice(0, 120)}" is not valid at ${now.toISOString()}`));
  return errors;
}

function validAt(cert: X509Certificate, now: Date): boolean {
  return new Date(cert.validFrom) <= now && now <= new Date(cert.validTo);
}

function sameRsaKey(a: KeyObject, b: KeyObject): boolean {
  if (a.asymmetricKeyType !== 'rsa' || b.asymmetricKeyType !== 'rsa') return false;
  const x = a.export({ format: 'jwk' });
  const y = b.export({ format: 'jwk' });
  return x.n === y.n && x.e === y.e;
}

function failed(error: AttestationError, subject: string | null): AkCertCheck {
  return { verified: false, subject, errors: [error], warnings: [] };
}
