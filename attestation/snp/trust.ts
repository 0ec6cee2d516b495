import { AttestationError } from '../errors.js';
import { AMD_ARK_SHA256, AMD_ROOT_PEMS } from './amd-roots.js';
import { type ParsedCertificate, loadPemBundle } from './certificate.js';
import { PRODUCTS, type Product, productFromCommonName } from './product.js';

/**
 * One product's root of trust: its ARK and the intermediates it signed (ASK for VCEKs, ASVK for VLEKs).
 * `simulated` anchors come only from the simulator, only when a caller passes them explicitly, and every
 * verdict that rests on one says so.
 */
export interface TrustAnchor {
  readonly product: Product;
  readonly ark: ParsedCertificate;
  readonly ask: ParsedCertificate | null;
  readonly asvk: ParsedCertificate | null;
  readonly simulated: boolean;
}

export type TrustStore = readonly TrustAnchor[];

let amdStore: TrustStore | undefined;

/** The pinned AMD roots. Fails loudly if the embedded ARKs do not match their pinned fingerprints. */
export function amdTrustStore(): TrustStore {
  amdStore ??= PRODUCTS.map((product) => {
    const pems = AMD_ROOT_PEMS[product];
    const anchor = anchorFromCertificates(product, loadPemBundle(pems.ark + pems.ask + pems.asvk), false);
    if (anchor.ark.sha256 !== AMD_ARK_SHA256[product]) {
      throw new Error(`embedded ARK-${product} does not match its pinned fingerprint: the build is corrupt`);
    }
    return anchor;
  });
  return amdStore;
}

/**
 * Builds trust anchors from a PEM bundle (ARK, ASK and/or ASVK per product, any order), for example the
 * simulator's roots. Each ARK must be self-signed; each intermediate must be signed by its product's ARK.
 */
export function trustAnchorsFromPem(pem: string, options: { simulated: boolean }): TrustAnchor[] {
  const certs = loadPemBundle(pem);
  const products = new Set(certs.map((c) => productFromCommonName(c.subjectCN ?? '')).filter((p): p is Product => p !== null));
  return [...products].map((p) => anchorFromCertificates(p, certs, options.simulated));
}

function anchorFromCertificates(product: Product, certs: readonly ParsedCertificate[], simulated: boolean): TrustAnchor {
  const byCn = (cn: string): ParsedCertificate | null => certs.find((c) => c.subjectCN === cn) ?? null;
  const ark = byCn(`ARK-${product}`);
  if (!ark || ark.issuerCN !== ark.subjectCN || !ark.x509.verify(ark.x509.publicKey)) {
    throw new AttestationError('ERR_CERT_ROOT_UNTRUSTED', `no self-signed ARK-${product} in the trust bundle`);
  }
  const signedByArk = (c: ParsedCertificate | null): ParsedCertificate | null => {
    if (c && !(c.issuerCN === ark.subjectCN && c.x509.verify(ark.x509.publicKey))) {
      throw new AttestationError('ERR_CERT_CHAIN', `${c.subjectCN} in the trust bundle is not signed by ARK-${product}`);
    }
    return c;
  };
  return { product, ark, ask: signedByArk(byCn(`SEV-${product}`)), asvk: signedByArk(byCn(`SEV-VLEK-${product}`)), simulated };
}
