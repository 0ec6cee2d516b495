import { AttestationError } from '../errors.js';
import type { SignerKind } from './chain.js';
import { type ParsedCertificate, parseCertificate } from './certificate.js';
import type { Product } from './product.js';
import { type SnpReport, parseReport } from './report.js';
import { type Tcb, decodeTcb } from './tcb.js';

/** Where missing certificates and CRLs come from (AMD KDS, a cache, a fake in tests). */
export interface EndorsementFetcher {
  vcek(product: Product, chipId: Buffer, tcb: Tcb): Promise<Buffer>;
  crl(product: Product, kind: SignerKind): Promise<Buffer>;
}

export interface Endorsements {
  readonly certificates: ParsedCertificate[];
  readonly crls: Buffer[];
  /** What was fetched, for progress output and audit. */
  readonly fetched: string[];
}

/**
 * Completes the evidence before verification: fetches the VCEK for the report's chip and REPORTED_TCB (never
 * CURRENT_TCB, pitfall 1) when none was supplied, and the product CRL when revocation is checked. Fetching
 * grants no trust: everything fetched is verified against the pinned roots afterwards. VLEKs cannot be
 * fetched (KDS needs CSP-authenticated TLS) and must come with the evidence.
 */
export async function completeEndorsements(
  reportBytes: Uint8Array,
  supplied: readonly ParsedCertificate[],
  fetcher: EndorsementFetcher,
  options: { product?: Product; checkRevocation?: boolean } = {},
): Promise<Endorsements> {
  const report = parseReport(reportBytes);
  const certificates = [...supplied];
  const fetched: string[] = [];
  const haveLeaf = supplied.some((c) => c.subjectCN === 'SEV-VCEK' || c.subjectCN === 'SEV-VLEK');
  const product = report.cpuidProduct ?? productFromIssuer(supplied) ?? options.product ?? null;
  if (!haveLeaf) {
    if (report.keyInfoBits.signingKey === 'VLEK') {
      throw new AttestationError('ERR_CERT_MISSING', 'the report is VLEK-signed and no VLEK was supplied; AMD KDS serves VLEKs only to cloud providers, so it must come with the evidence');
    }
    if (!product) {
      throw new AttestationError('ERR_SNP_PRODUCT_UNDETERMINED', `a version ${report.version} report carries no CPUID; name the product (--product) so its VCEK can be fetched`);
    }
    certificates.push(parseCertificate(await fetcher.vcek(product, report.chipId, decodeTcb(report.reportedTcbRaw, product))));
    fetched.push(`VCEK for ${product} chip ${report.chipId.toString('hex').slice(0, 16)}...`);
  }
  const crls: Buffer[] = [];
  if (options.checkRevocation && product) {
    crls.push(await fetcher.crl(product, signerOf(report)));
    fetched.push(`${product} ${signerOf(report)} CRL`);
  }
  return { certificates, crls, fetched };
}

function signerOf(report: SnpReport): SignerKind {
  return report.keyInfoBits.signingKey === 'VLEK' ? 'VLEK' : 'VCEK';
}

function productFromIssuer(certs: readonly ParsedCertificate[]): Product | null {
  for (const c of certs) {
    const m = /^SEV-(?:VLEK-)?(Milan|Genoa|Turin)$/.exec(c.issuerCN ?? '');
    if (m && (c.subjectCN === 'SEV-VCEK' || c.subjectCN === 'SEV-VLEK')) return m[1] as Product;
  }
  return null;
}
