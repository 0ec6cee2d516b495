import { AttestationError } from '../errors.js';
import { type AmdExtensions, decodeAmdExtensions } from './amd-extensions.js';
import { OID_RSASSA_PSS, type ParsedCertificate } from './certificate.js';
import { type Product, productFromCommonName } from './product.js';
import type { TrustAnchor, TrustStore } from './trust.js';

export type SignerKind = 'VCEK' | 'VLEK';

/** A leaf certificate that chains to a trust anchor, with the facts the report binding needs. */
export interface VerifiedChain {
  readonly kind: SignerKind;
  readonly product: Product;
  readonly leaf: ParsedCertificate;
  readonly intermediate: ParsedCertificate;
  readonly anchor: TrustAnchor;
  readonly extensions: AmdExtensions;
}

const LEAF_CN: Record<SignerKind, string> = { VCEK: 'SEV-VCEK', VLEK: 'SEV-VLEK' };
/** Signature checks are the expensive part of a chain; a (signer, signee) pair that verified once stays verified. */
const verifiedPairs = new Set<string>();

/**
 * Verifies the endorsement chain (VCEK -> ASK -> ARK or VLEK -> ASVK -> ARK) against the trust store:
 *  1. pick the leaf by its AMD name and decide VCEK or VLEK from it;
 *  2. take the product from the issuer's name (an ASK "SEV-{P}", an ASVK "SEV-VLEK-{P}");
 *  3. refuse a supplied ARK that is not pinned for that product;
 *  4. find an intermediate (pinned, or supplied and signed by the pinned ARK) that signed the leaf;
 *  5. check the leaf's key type, signature algorithm and AMD extensions;
 *  6. check every certificate's validity window at `now`.
 * Every failure is pushed to `errors`; returns null when no chain to a trusted root exists.
 */
export function verifyChain(certs: readonly ParsedCertificate[], trust: TrustStore, now: Date, errors: AttestationError[]): VerifiedChain | null {
  const leaf = certs.find((c) => c.subjectCN === LEAF_CN.VCEK || c.subjectCN === LEAF_CN.VLEK);
  if (!leaf) {
    errors.push(new AttestationError('ERR_CERT_MISSING', 'no certificate named SEV-VCEK or SEV-VLEK among the supplied certificates'));
    return null;
  }
  const kind: SignerKind = leaf.subjectCN === LEAF_CN.VCEK ? 'VCEK' : 'VLEK';
  const product = leafProduct(leaf, kind, errors);
  if (!product) return null;
  const anchors = trust.filter((a) => a.product === product);
  if (anchors.length === 0) {
    errors.push(new AttestationError('ERR_CERT_ROOT_UNTRUSTED', `no trusted ARK-${product} is configured`));
    return null;
  }
  rejectUnpinnedArk(certs, product, anchors, errors);
  const found = findIntermediate(leaf, kind, certs, anchors);
  if (!found) {
    errors.push(new AttestationError('ERR_CERT_CHAIN', `the ${kind} is not signed by any trusted ${kind === 'VCEK' ? `SEV-${product}` : `SEV-VLEK-${product}`} under ARK-${product}`));
    return null;
  }
  const extensions = checkLeafShape(leaf, kind, errors);
  for (const c of [leaf, found.intermediate, found.anchor.ark]) checkValidity(c, now, errors);
  return extensions ? { kind, product, leaf, intermediate: found.intermediate, anchor: found.anchor, extensions } : null;
}

function leafProduct(leaf: ParsedCertificate, kind: SignerKind, errors: AttestationError[]): Product | null {
  const issuer = leaf.issuerCN ?? '';
  const product = productFromCommonName(issuer);
  const expectedPrefix = kind === 'VCEK' ? 'SEV-' : 'SEV-VLEK-';
  const kindMatches = kind === 'VCEK' ? !issuer.startsWith('SEV-VLEK-') : issuer.startsWith('SEV-VLEK-');
  if (!product || !issuer.startsWith(expectedPrefix) || !kindMatches) {
    errors.push(new AttestationError('ERR_CERT_SHAPE', `a ${LEAF_CN[kind]} must be issued by ${expectedPrefix}{Milan|Genoa|Turin}; this one is issued by "${issuer}" (a VLEK chain cannot stand in for a VCEK chain)`));
    return null;
  }
  return product;
}

function rejectUnpinnedArk(certs: readonly ParsedCertificate[], product: Product, anchors: readonly TrustAnchor[], errors: AttestationError[]): void {
  for (const c of certs) {
    if (c.subjectCN === `ARK-${product}` && !anchors.some((a) => a.ark.sha256 === c.sha256)) {
      errors.push(new AttestationError('ERR_CERT_ROOT_UNTRUSTED', `the supplied ARK-${product} (sha256 ${c.sha256.slice(0, 16)}...) is not the pinned AMD root`));
    }
  }
}

function findIntermediate(leaf: ParsedCertificate, kind: SignerKind, certs: readonly ParsedCertificate[], anchors: readonly TrustAnchor[]): { intermediate: ParsedCertificate; anchor: TrustAnchor } | null {
  for (const anchor of anchors) {
    const pinned = kind === 'VCEK' ? anchor.ask : anchor.asvk;
    const cn = kind === 'VCEK' ? `SEV-${anchor.product}` : `SEV-VLEK-${anchor.product}`;
    const supplied = certs.filter((c) => c.subjectCN === cn && c.sha256 !== pinned?.sha256);
    for (const ica of pinned ? [pinned, ...supplied] : supplied) {
      if (ica.x509.ca && signedBy(ica, anchor.ark) && signedBy(leaf, ica)) return { intermediate: ica, anchor };
    }
  }
  return null;
}

function signedBy(signee: ParsedCertificate, signer: ParsedCertificate): boolean {
  const key = `${signer.sha256}:${signee.sha256}`;
  if (verifiedPairs.has(key)) return true;
  if (signee.issuerCN !== signer.subjectCN || signee.signatureAlgorithm !== OID_RSASSA_PSS) return false;
  const ok = signee.x509.verify(signer.x509.publicKey);
  if (ok) verifiedPairs.add(key);
  return ok;
}

function checkLeafShape(leaf: ParsedCertificate, kind: SignerKind, errors: AttestationError[]): AmdExtensions | null {
  const details = leaf.x509.publicKey.asymmetricKeyDetails;
  if (leaf.x509.publicKey.asymmetricKeyType !== 'ec' || details?.namedCurve !== 'secp384r1') {
    errors.push(new AttestationError('ERR_CERT_SHAPE', `the ${kind} key must be ECDSA P-384`));
    return null;
  }
  let ext: AmdExtensions;
  try {
    ext = decodeAmdExtensions(leaf.extensions);
  } catch (e) {
    if (e instanceof AttestationError) errors.push(e);
    else throw e;
    return null;
  }
  const missing = (['blSPL', 'teeSPL', 'snpSPL', 'ucodeSPL'] as const).filter((k) => ext[k] === null);
  if (missing.length > 0) errors.push(new AttestationError('ERR_CERT_EXTENSION', `the ${kind} lacks AMD TCB extension(s) ${missing.join(', ')}`));
  if (kind === 'VCEK' && (ext.hwID === null || ext.cspID !== null)) {
    errors.push(new AttestationError('ERR_CERT_EXTENSION', 'a VCEK must carry hwID and no cspID'));
  }
  if (kind === 'VLEK' && (ext.cspID === null || ext.hwID !== null)) {
    errors.push(new AttestationError('ERR_CERT_EXTENSION', 'a VLEK must carry cspID and no hwID'));
  }
  return missing.length > 0 ? null : ext;
}

function checkValidity(c: ParsedCertificate, now: Date, errors: AttestationError[]): void {
  if (now < c.notBefore) {
    errors.push(new AttestationError('ERR_CERT_NOT_YET_VALID', `${c.subjectCN} is valid from ${c.notBefore.toISOString()}, after the verification time ${now.toISOString()}`));
  } else if (now > c.notAfter) {
    errors.push(new AttestationError('ERR_CERT_EXPIRED', `${c.subjectCN} expired at ${c.notAfter.toISOString()}, before the verification time ${now.toISOString()}`));
  }
}
