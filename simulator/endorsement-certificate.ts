import type { Extension } from '@peculiar/asn1-x509';
import { AMD_OID } from '../attestation/snp/amd-extensions.js';
import type { Product } from '../attestation/snp/product.js';
import { type Tcb, usesTurinLayout } from '../attestation/snp/tcb.js';
import { type CertificateSigner, buildCertificate, rawExtension } from './certificate-builder.js';
import { derIa5String, derSmallInteger } from './der.js';
import { PRODUCT_PROFILES } from './defaults.js';
import type { EndorsementKey } from './endorsement-key.js';
import type { ValidityWindow } from './validity.js';

export type SignerKind = 'VCEK' | 'VLEK';

export interface EndorsementCertificateInput {
  readonly product: Product;
  readonly kind: SignerKind;
  readonly tcb: Tcb;
  /** VCEK: the chip id as KDS puts it in hwID (64 bytes, or 8 on Turin). */
  readonly hwId?: Uint8Array;
  /** VLEK: the cloud provider it was issued to. */
  readonly cspId?: string;
  readonly key: EndorsementKey;
  readonly validity: ValidityWindow;
}

/**
 * The SPL extensions in KDS's order: Milan/Genoa put reserved spl4..7 between TEE and SNP; Turin adds fmcSPL
 * first and drops spl4 (go-sev-guest PR 193).
 */
function splExtensions(product: Product, tcb: Tcb): Extension[] {
  const int = (oid: string, v: number): Extension => rawExtension(oid, derSmallInteger(v));
  if (usesTurinLayout(product)) {
    return [
      int(AMD_OID.fmcSPL, tcb.fmc ?? 0),
      int(AMD_OID.blSPL, tcb.bootloader),
      int(AMD_OID.teeSPL, tcb.tee),
      int(AMD_OID.snpSPL, tcb.snp),
      int(AMD_OID.spl5, 0),
      int(AMD_OID.spl6, 0),
      int(AMD_OID.spl7, 0),
      int(AMD_OID.ucodeSPL, tcb.microcode),
    ];
  }
  return [
    int(AMD_OID.blSPL, tcb.bootloader),
    int(AMD_OID.teeSPL, tcb.tee),
    int(AMD_OID.spl4, 0),
    int(AMD_OID.spl5, 0),
    int(AMD_OID.spl6, 0),
    int(AMD_OID.spl7, 0),
    int(AMD_OID.snpSPL, tcb.snp),
    int(AMD_OID.ucodeSPL, tcb.microcode),
  ];
}

/** VCEK: hwID as raw bytes with no inner DER tag. VLEK: cspID as an IA5String, and no hwID. */
function identityExtension(input: EndorsementCertificateInput): Extension {
  if (input.kind === 'VCEK') {
    const expected = usesTurinLayout(input.product) ? 8 : 64;
    if (input.hwId?.length !== expected) throw new RangeError(`a ${input.product} VCEK hwID is ${expected} bytes`);
    return rawExtension(AMD_OID.hwID, input.hwId);
  }
  if (input.cspId === undefined) throw new RangeError('a VLEK needs a cspID');
  return rawExtension(AMD_OID.cspID, derIa5String(input.cspId));
}

/**
 * A VCEK or VLEK as KDS issues it: CN SEV-VCEK / SEV-VLEK, serial 0, P-384 key, no SKI/AKI/basicConstraints,
 * only AMD's extensions, RSASSA-PSS without the explicit trailerField (as 2025 VCEKs are).
 */
export function issueEndorsementCertificate(input: EndorsementCertificateInput, signer: CertificateSigner): Buffer {
  const profile = PRODUCT_PROFILES[input.product];
  const productName = input.kind === 'VCEK' ? profile.vcekProductName : input.product;
  const extensions = [
    rawExtension(AMD_OID.structVersion, derSmallInteger(profile.structVersion)),
    rawExtension(AMD_OID.productName, derIa5String(productName)),
    ...splExtensions(input.product, input.tcb),
    identityExtension(input),
  ];
  const issuerCn = input.kind === 'VCEK' ? `SEV-${input.product}` : `SEV-VLEK-${input.product}`;
  return buildCertificate(
    { serial: 0, issuerCn, subjectCn: `SEV-${input.kind}`, ...input.validity, subjectPublicKey: input.key.publicKey, extensions, explicitPssTrailer: false },
    signer,
  );
}
