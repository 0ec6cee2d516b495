import { KeyError } from '../errors.js';
import type { ParsedBundle } from './bundle.js';
import { type CertificateFacts, EKU_CODE_SIGNING, certificateFacts } from './cert-extensions.js';
import { ecdsaVerifies } from './verify-key.js';

/** Facts about a certificate-mode signer, for the verdict. */
export interface CertificateSigner {
  readonly subject: string;
  readonly issuer: string;
  readonly fingerprint256: string;
  readonly anchor: string;
}

const MAX_CHAIN = 8;

/**
 * Certificate mode as the reference does it: build a path from the leaf through the bundle's intermediates
 * to a configured CA, validate every certificate at the leaf's notBefore (there is no trusted timestamp),
 * require digitalSignature or codeSigning on the leaf and CA rights on every issuer, then check the
 * DSSE signature with the leaf key.
 */
export function verifyCertificateSignature(b: ParsedBundle, anchors: readonly CertificateFacts[], signed: Buffer, signature: Buffer): { errors: KeyError[]; signer: CertificateSigner | null } {
  const der = b.material.kind === 'chain' ? b.material.certificates : b.material.kind === 'certificate' ? [b.material.certificate] : undefined;
  if (!der) return { errors: [new KeyError('ERR_SIG_MATERIAL', 'the bundle carries a public key, not a certificate chain: verify it in key mode')], signer: null };
  let chain: CertificateFacts[];
  try {
    chain = der.map((d) => certificateFacts(d));
  } catch (e) {
    return { errors: [e as KeyError], signer: null };
  }
  const leaf = chain[0]!;
  const errors: KeyError[] = [];
  const path = buildPath(leaf, chain.slice(1), anchors);
  if (!path) errors.push(new KeyError('ERR_SIG_CERT_CHAIN', `the signing certificate (${leaf.x509.subject.replace(/\n/g, ', ')}) does not chain to a trusted CA`));
  else errors.push(...checkPath(path));
  if (!leafMaySign(leaf)) errors.push(new KeyError('ERR_SIG_CERT_USAGE', 'the signing certificate has neither KeyUsage digitalSignature nor EKU codeSigning'));
  if (!ecdsaVerifies(leaf.x509.publicKey, signed, signature)) errors.push(new KeyError('ERR_SIG_SIGNATURE_INVALID', 'the DSSE signature does not verify with the signing certificate key'));
  const signer = { subject: leaf.x509.subject, issuer: leaf.x509.issuer, fingerprint256: leaf.x509.fingerprint256, anchor: path?.at(-1)?.x509.subject ?? '' };
  return { errors, signer };
}

function leafMaySign(leaf: CertificateFacts): boolean {
  return Boolean(leaf.keyUsage?.includes('digitalSignature') || leaf.extendedKeyUsage?.includes(EKU_CODE_SIGNING));
}

/** Leaf first, anchor last; undefined when no path reaches an anchor. */
function buildPath(leaf: CertificateFacts, pool: readonly CertificateFacts[], anchors: readonly CertificateFacts[]): CertificateFacts[] | undefined {
  const path = [leaf];
  let current = leaf;
  for (let depth = 0; depth < MAX_CHAIN; depth++) {
    if (anchors.some((a) => a.x509.fingerprint256 === current.x509.fingerprint256)) return path;
    const anchor = anchors.find((a) => issued(a, current));
    if (anchor) return [...path, anchor];
    const next = pool.find((c) => issued(c, current) && !path.includes(c));
    if (!next) return undefined;
    path.push(next);
    current = next;
  }
  return undefined;
}

function issued(issuer: CertificateFacts, child: CertificateFacts): boolean {
  try {
    return child.x509.checkIssued(issuer.x509) && child.x509.verify(issuer.x509.publicKey);
  } catch {
    return false;
  }
}

function checkPath(path: readonly CertificateFacts[]): KeyError[] {
  const errors: KeyError[] = [];
  const at = new Date(path[0]!.x509.validFrom);
  for (const [i, c] of path.entries()) {
    if (new Date(c.x509.validFrom) > at || new Date(c.x509.validTo) < at) {
      errors.push(new KeyError('ERR_SIG_CERT_VALIDITY', `${c.x509.subject.replace(/\n/g, ', ')} is not valid at ${at.toISOString()} (the signing certificate's notBefore)`));
    }
    if (i === 0) continue;
    // i - 1 intermediates sit between this issuer and the leaf.
    const overLength = c.pathLen !== undefined && i - 1 > c.pathLen;
    const noCertSign = c.keyUsage !== undefined && !c.keyUsage.includes('keyCertSign');
    if (!c.isCA || overLength || noCertSign) {
      errors.push(new KeyError('ERR_SIG_CERT_CA', `${c.x509.subject.replace(/\n/g, ', ')} may not issue certificates here (${!c.isCA ? 'not a CA' : overLength ? 'pathLen exceeded' : 'no keyCertSign'})`));
    }
  }
  return errors;
}
